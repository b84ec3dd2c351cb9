import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, OPENSSL, OPENSSL_MISSING, type TestPki } from '../../test/fixtures/tls.ts';
import { ConfigError } from '../config/index.ts';
import { checkTlsMaterial, createTlsReloader, readTlsMaterial, type TlsMaterial } from './index.ts';

if (!OPENSSL) console.warn(`gateway/src/tls: ${OPENSSL_MISSING}`);

describe.skipIf(!OPENSSL)('tls material and reloader', () => {
  let pki: TestPki;
  let a: { certFile: string; keyFile: string };
  let b: { certFile: string; keyFile: string };
  let caFile: string;
  beforeAll(() => {
    pki = createTestPki('tls-unit');
    const ca = pki.ca('unit-ca');
    caFile = ca.caFile;
    a = ca.issue('a');
    b = ca.issue('b');
  });
  afterAll(() => pki?.remove());

  const bytes = (f: { certFile: string; keyFile: string }): TlsMaterial => ({
    cert: readFileSync(f.certFile),
    key: readFileSync(f.keyFile),
  });

  it('accepts a matching pair and a CA bundle', () => {
    expect(checkTlsMaterial(a, { ...bytes(a), ca: readFileSync(caFile) }, 'server.tls')).toBeUndefined();
  });

  // Each row: what is wrong, and the key the message must name.
  const cases: { name: string; material: () => TlsMaterial; key: string; message: RegExp }[] = [
    {
      name: 'a key of another certificate',
      material: () => ({ cert: bytes(a).cert, key: bytes(b).key }),
      key: 'server.tls.keyFile',
      message: /does not match server\.tls\.certFile/,
    },
    {
      name: 'a certificate file holding a key',
      material: () => ({ cert: bytes(a).key, key: bytes(a).key }),
      key: 'server.tls.certFile',
      message: /is not a PEM certificate/,
    },
    {
      name: 'a key file holding a certificate',
      material: () => ({ cert: bytes(a).cert, key: bytes(a).cert }),
      key: 'server.tls.keyFile',
      message: /is not an unencrypted PEM private key/,
    },
    {
      name: 'a truncated certificate',
      material: () => ({ cert: bytes(a).cert!.subarray(0, 200), key: bytes(a).key }),
      key: 'server.tls.certFile',
      message: /is not a PEM certificate/,
    },
    {
      name: 'an empty CA bundle',
      material: () => ({ ...bytes(a), ca: Buffer.from('') }),
      key: 'server.tls.caFile',
      message: /is not a PEM CA bundle/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}, naming ${c.key}`, () => {
      const problem = checkTlsMaterial({ ...a, caFile }, c.material(), 'server.tls');
      expect(problem?.key).toBe(c.key);
      expect(problem?.message).toMatch(c.message);
    });
  }

  it('stops start-up on a missing file with a ConfigError naming the key and the path', () => {
    const missing = `${pki.dir}/nope.crt`;
    let caught: unknown;
    try {
      readTlsMaterial({ certFile: missing, keyFile: a.keyFile }, 'server.tls');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues).toEqual([
      `server.tls.certFile: ${missing} cannot be read (ENOENT)`,
    ]);
  });

  describe('createTlsReloader', () => {
    // The files as the reloader reads them, replaced in memory (no timers: check() is called directly).
    const setup = () => {
      const files = new Map<string, Buffer>([
        ['/c', bytes(a).cert!],
        ['/k', bytes(a).key!],
      ]);
      const applied: TlsMaterial[] = [];
      const logs: { level: string; message: string }[] = [];
      const reloader = createTlsReloader({
        files: { certFile: '/c', keyFile: '/k' },
        at: 'server.tls',
        initial: { cert: files.get('/c'), key: files.get('/k') },
        apply: (m) => applied.push(m),
        log: (level, message) => logs.push({ level, message }),
        read: (f) => {
          const v = files.get(f);
          if (!v) throw Object.assign(new Error('gone'), { code: 'ENOENT' });
          return v;
        },
      });
      return { files, applied, logs, reloader };
    };

    it('does nothing while the files are unchanged', () => {
      const { reloader, applied, logs } = setup();
      expect([reloader.check(), reloader.check()]).toEqual(['unchanged', 'unchanged']);
      expect(applied).toEqual([]);
      expect(logs).toEqual([]);
    });

    it('keeps the old pair through a half-done rotation, says so once, and applies the whole new pair', () => {
      const { reloader, files, applied, logs } = setup();
      files.set('/c', bytes(b).cert!); // the certificate is replaced first, the key not yet
      expect([reloader.check(), reloader.check()]).toEqual(['refused', 'refused']);
      expect(applied).toEqual([]);
      expect(logs).toEqual([
        {
          level: 'error',
          message:
            'server.tls: keeping the previous certificate: server.tls.keyFile /k does not match server.tls.certFile /c',
        },
      ]);
      files.set('/k', bytes(b).key!);
      expect(reloader.check()).toBe('reloaded');
      expect(applied).toHaveLength(1);
      expect(applied[0]!.cert!.equals(bytes(b).cert!)).toBe(true);
      expect(logs.at(-1)).toEqual({ level: 'info', message: 'server.tls: certificate reloaded' });
      expect(reloader.check()).toBe('unchanged');
    });

    it('keeps serving when a file disappears, naming it', () => {
      const { reloader, files, applied, logs } = setup();
      files.delete('/k');
      expect(reloader.check()).toBe('refused');
      expect(applied).toEqual([]);
      expect(logs[0]!.message).toBe(
        'server.tls: keeping the previous certificate: server.tls.keyFile /k cannot be read (ENOENT)',
      );
    });

    it('keeps the old context when applying the new one throws', () => {
      const { files, logs } = setup();
      const reloader = createTlsReloader({
        files: { certFile: '/c', keyFile: '/k' },
        at: 'server.tls',
        initial: bytes(a),
        apply: () => {
          throw new Error('boom');
        },
        log: (level, message) => logs.push({ level, message }),
        read: (f) => files.get(f)!,
      });
      files.set('/c', bytes(b).cert!);
      files.set('/k', bytes(b).key!);
      expect(reloader.check()).toBe('refused');
      expect(logs.at(-1)!.message).toMatch(/keeping the previous certificate: .*boom/);
    });
  });
});
