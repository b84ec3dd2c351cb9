import { rmSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestPki,
  type Issued,
  OPENSSL,
  OPENSSL_MISSING,
  type TestCa,
  type TestPki,
} from '../../gateway/test/fixtures/tls.ts';
import { type Stack, startStack } from '../../scripts/stack.ts';
import { expectedSampleData, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

if (!OPENSSL) console.warn(`test/e2e/tls.e2e.ts: ${OPENSSL_MISSING}`);

// The whole stack as `npm start` runs it, with the gateway terminating TLS (server.tls): the README's
// sample query over HTTPS from a client that trusts the stack's CA.
describe.skipIf(!OPENSSL)('the federated stack over HTTPS', () => {
  let pki: TestPki;
  let ca: TestCa;
  let cert: Issued;
  let stack: Stack;

  beforeAll(async () => {
    pki = createTestPki('tls-e2e');
    ca = pki.ca('stack-ca');
    cert = ca.issue('gateway');
    stack = await startStack({
      port: 0,
      host: '127.0.0.1',
      dataDir: 'memory',
      stateDir: `${process.cwd()}/.tollgate/e2e-tls-${process.pid}`,
      gatewayConfig: {
        server: { tls: { certFile: cert.certFile, keyFile: cert.keyFile } },
        // about TLS, not budgets: room for the anonymous caller
        ratelimit: {
          plans: {
            anonymous: { capacity: 1_000_000, restoreRate: 100_000 },
            free: { capacity: 1000, restoreRate: 50 },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (stack) rmSync(stack.stateDir, { recursive: true, force: true });
    pki?.remove();
  });

  /** POSTs the sample query with node:https, trusting `ca` (else only the public CAs). */
  const post = (ca?: Buffer) =>
    new Promise<{ status: number; body: { data?: unknown; errors?: unknown } }>((resolve, reject) => {
      const body = JSON.stringify({ query: SAMPLE_QUERY, variables: { first: 5 } });
      const req = request(
        stack.url,
        { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false, ...(ca && { ca }) },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('answers the sample query over https:// to a client that trusts the CA', async () => {
    expect(stack.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const { status, body } = await post(ca.ca);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual(await expectedSampleData(stack.databaseUrl, 5));
  });

  it('is refused by a client that trusts only the public CAs', async () => {
    const failed = await post().then(
      () => 'no error',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(failed).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});
