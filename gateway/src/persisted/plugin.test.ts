import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloServer, type GraphQLResponse } from '@apollo/server';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../config/index.ts';
import { createPersistedQueries } from './plugin.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-pq-plugin-'));
const manifest = join(dir, 'manifest.json');
writeFileSync(
  manifest,
  JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [{ id: 'hello-id', body: 'query Hello { hello }', name: 'Hello', type: 'query' }],
  }),
);

let secretReads = 0;
const servers: ApolloServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function serverWith(persistedQueries: Record<string, unknown>, log?: (m: string) => void) {
  const options = GatewayConfigSchema.parse({ persistedQueries }).persistedQueries;
  const pq = createPersistedQueries(options, { log });
  const server = new ApolloServer({
    typeDefs: 'type Query { hello: String secret: String }',
    resolvers: {
      Query: {
        hello: () => 'world',
        secret: () => {
          secretReads++;
          return 'leaked';
        },
      },
    },
    persistedQueries: pq.apolloOption,
    plugins: pq.plugin ? [pq.plugin] : [],
  });
  await server.start();
  servers.push(server);
  return server;
}

function single(response: GraphQLResponse) {
  if (response.body.kind !== 'single') throw new Error('expected a single result');
  const { data, errors } = response.body.singleResult;
  return { status: response.http.status ?? 200, data, codes: errors?.map((e) => e.extensions?.code) };
}
const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

describe('trusted documents (enforce)', () => {
  it('runs a listed operation by manifest id, by its SHA-256 and by its exact text', async () => {
    const server = await serverWith({ apq: false, trustedDocuments: { manifest } });
    for (const request of [
      byId('hello-id'),
      byId(sha('query Hello { hello }')),
      { query: 'query Hello { hello }' },
    ]) {
      expect(single(await server.executeOperation(request))).toEqual({
        status: 200,
        data: { hello: 'world' },
        codes: undefined,
      });
    }
  });

  it('refuses an operation not in the list with PERSISTED_QUERY_NOT_IN_LIST and 400, running nothing', async () => {
    const server = await serverWith({ trustedDocuments: { manifest } });
    const before = secretReads;
    const out = single(await server.executeOperation({ query: '{ secret }' }));
    expect(out).toMatchObject({ status: 400, codes: ['PERSISTED_QUERY_NOT_IN_LIST'] });
    expect(out.data).toBeUndefined();
    // registering it through APQ does not get it in either
    const apq = { query: '{ secret }', ...byId(sha('{ secret }')) };
    expect(single(await server.executeOperation(apq)).codes).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    expect(single(await server.executeOperation(byId(sha('{ secret }')))).codes).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    expect(secretReads).toBe(before);
  });

  it('answers an unknown id PERSISTED_QUERY_NOT_FOUND with 200, and a listed id sent with another text 400', async () => {
    const server = await serverWith({ trustedDocuments: { manifest } });
    expect(single(await server.executeOperation(byId('nope')))).toMatchObject({
      status: 200,
      codes: ['PERSISTED_QUERY_NOT_FOUND'],
    });
    const hijack = { query: '{ secret }', ...byId('hello-id') };
    expect(single(await server.executeOperation(hijack))).toMatchObject({
      status: 400,
      codes: ['BAD_REQUEST'],
    });
  });
});

describe('trusted documents (audit)', () => {
  it('runs unlisted operations and logs each distinct one once', async () => {
    const logged: string[] = [];
    const server = await serverWith({ trustedDocuments: { manifest, mode: 'audit' } }, (m) => logged.push(m));
    for (let i = 0; i < 3; i++)
      expect(single(await server.executeOperation({ query: '{ secret }' })).data).toEqual({
        secret: 'leaked',
      });
    expect(single(await server.executeOperation(byId('hello-id'))).data).toEqual({ hello: 'world' });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/not in the manifest/);
  });
});

describe('automatic persisted queries', () => {
  it('registers a query with its hash, then serves the hash alone; an unknown hash is not found', async () => {
    const server = await serverWith({ apq: true });
    const query = '{ hello }';
    expect(single(await server.executeOperation(byId(sha(query)))).codes).toEqual([
      'PERSISTED_QUERY_NOT_FOUND',
    ]);
    expect(single(await server.executeOperation({ query, ...byId(sha(query)) })).data).toEqual({
      hello: 'world',
    });
    expect(single(await server.executeOperation(byId(sha(query)))).data).toEqual({ hello: 'world' });
  });

  it('answers PERSISTED_QUERY_NOT_SUPPORTED when APQ is off', async () => {
    const server = await serverWith({ apq: false });
    expect(single(await server.executeOperation(byId(sha('{ hello }')))).codes).toEqual([
      'PERSISTED_QUERY_NOT_SUPPORTED',
    ]);
  });

  it('refuses to start on an unusable manifest, naming the file', async () => {
    const options = GatewayConfigSchema.parse({
      persistedQueries: { trustedDocuments: { manifest: join(dir, 'missing.json') } },
    }).persistedQueries;
    expect(() => createPersistedQueries(options)).toThrow(
      /^persistedQueries\.trustedDocuments\.manifest: .*missing\.json: ENOENT/,
    );
  });
});
