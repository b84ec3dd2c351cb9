import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaDataSource } from './data-source.ts';
import { ReplicaPool } from './replica-pool.ts';

describe('ReplicaDataSource', () => {
  let server: Server;
  let url = '';
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        hits++;
        if (body.includes('slow')) return void setTimeout(() => res.end('{"data":{"slow":1}}'), 1_000);
        res.writeHead(503).end('unavailable');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  // a fetch of the gateway's query plan, reduced to what the data source reads
  const fetchOf = (query: string, context: Record<string, unknown> = {}) =>
    ({
      kind: 'incoming operation',
      request: { query },
      document: parse(query),
      context,
    }) as unknown as GraphQLDataSourceProcessOptions<Record<string, unknown>>;

  // As the gateway builds it (server/create-gateway.ts): the fetch deadline is the pool's, set per subgraph.
  it("bounds a fetch by its subgraph's timeout and maps the timeout to SUBGRAPH_UNAVAILABLE", async () => {
    const pool = new ReplicaPool('slowpoke', [url], {
      healthCheck: { intervalMs: 0 },
      overrides: { slowpoke: { timeoutMs: 150 } },
    });
    const source = new ReplicaDataSource<Record<string, unknown>>({ pool });
    const t0 = performance.now();
    const res = await source.process(fetchOf('{ slow }'));
    expect(performance.now() - t0).toBeLessThan(800);
    expect(res.errors?.[0]).toMatchObject({
      path: ['slow'],
      extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'slowpoke', reason: 'POOL_TIMEOUT' },
    });
    await pool.close();
  });

  it('sends a mutation once, even on a retryable status', async () => {
    const pool = new ReplicaPool('writer', [url, url.replace('/graphql', '/graphql?b')], {
      healthCheck: { intervalMs: 0 },
    });
    const source = new ReplicaDataSource({ pool });
    hits = 0;
    const res = await source.process(fetchOf('mutation { add }'));
    expect(hits).toBe(1);
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'SUBGRAPH_UNAVAILABLE',
      reason: 'POOL_UPSTREAM_ERROR',
    });
    hits = 0;
    await source.process(fetchOf('{ read }'));
    expect(hits).toBe(2); // a query is retried on the other replica
    await pool.close();
  });
});
