import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/index.ts';

/** The PEM files of a `tls` config section (`server.tls`, `subgraphs[].tls`), as absolute paths. */
export interface TlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  caFile?: string | undefined;
}

/** The bytes of those files. */
export interface TlsMaterial {
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  ca?: Buffer | undefined;
}

const FILE_KEYS = { cert: 'certFile', key: 'keyFile', ca: 'caFile' } as const;
type Part = keyof typeof FILE_KEYS;
const PARTS = Object.keys(FILE_KEYS) as Part[];

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle; throws on a bundle with none or with one that does not parse. */
function certificates(pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (!blocks.length) throw new Error('no PEM certificate in it');
  return blocks.map((b) => new X509Certificate(b));
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Something wrong with one file of a `tls` section. */
export interface TlsProblem {
  /** The config key of the file, as `server.tls.keyFile`. */
  key: string;
  file: string;
  /** What is wrong, as `does not match server.tls.certFile /etc/tls/cert.pem`. */
  message: string;
}

/** One line: `server.tls.keyFile /etc/tls/key.pem does not match …`. */
export const problemLine = (p: TlsProblem) => `${p.key} ${p.file} ${p.message}`;

/**
 * What is wrong with a certificate, key and CA bundle (the first problem found); undefined when usable.
 * `at` is the config section (`server.tls`). Pure: the bytes are given.
 */
export function checkTlsMaterial(files: TlsFiles, material: TlsMaterial, at: string): TlsProblem | undefined {
  const problem = (part: Part, message: string): TlsProblem => ({
    key: `${at}.${FILE_KEYS[part]}`,
    file: files[FILE_KEYS[part]] ?? '',
    message,
  });
  let leaf: X509Certificate | undefined;
  let key: KeyObject | undefined;
  if (material.cert) {
    try {
      leaf = certificates(material.cert)[0];
    } catch (error) {
      return problem('cert', `is not a PEM certificate (${reason(error)})`);
    }
  }
  if (material.key) {
    try {
      key = createPrivateKey(material.key);
    } catch (error) {
      return problem('key', `is not an unencrypted PEM private key (${reason(error)})`);
    }
  }
  if (leaf && key && !leaf.checkPrivateKey(key))
    return problem('key', `does not match ${at}.certFile ${files.certFile}`);
  if (material.ca) {
    try {
      certificates(material.ca);
    } catch (error) {
      return problem('ca', `is not a PEM CA bundle (${reason(error)})`);
    }
  }
  return undefined;
}

/** Reads the files a `tls` section names; a file that cannot be read is a problem naming its key. */
export function readTlsFiles(
  files: TlsFiles,
  at: string,
  read: (file: string) => Buffer = readFileSync,
): { material: TlsMaterial } | { problem: TlsProblem } {
  const material: TlsMaterial = {};
  for (const part of PARTS) {
    const file = files[FILE_KEYS[part]];
    if (!file) continue;
    try {
      material[part] = read(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? reason(error);
      return { problem: { key: `${at}.${FILE_KEYS[part]}`, file, message: `cannot be read (${code})` } };
    }
  }
  const problem = checkTlsMaterial(files, material, at);
  return problem ? { problem } : { material };
}

/**
 * Reads and checks the files of a `tls` section at start-up; a missing, unreadable or unusable file
 * stops start-up with a ConfigError naming its key (`server.tls.certFile: /x cannot be read (ENOENT)`).
 */
export function readTlsMaterial(files: TlsFiles, at: string): TlsMaterial {
  const read = readTlsFiles(files, at);
  if ('problem' in read) {
    const { key, file, message } = read.problem;
    throw new ConfigError([`${key}: ${file} ${message}`]);
  }
  return read.material;
}

/** Whether two materials hold the same bytes. */
export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return PARTS.every((p) =>
    a[p] === undefined ? b[p] === undefined : b[p] !== undefined && a[p].equals(b[p]),
  );
}

/** SHA-256 fingerprint and expiry of the first certificate of a PEM (for the reload log line). */
export function describeCertificate(pem: Buffer): { fingerprint256: string; validTo: string } {
  const leaf = certificates(pem)[0]!;
  return { fingerprint256: leaf.fingerprint256, validTo: leaf.validTo };
}
