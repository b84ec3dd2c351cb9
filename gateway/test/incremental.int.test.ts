import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type BaseContext } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { buildSchema, GraphQLError, type GraphQLFormattedError } from 'graphql';
import { meros } from 'meros';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdmission } from '../src/admission/index.ts';
import {
  attachIncremental,
  type IncrementalStream,
  type SubsequentPayload,
} from '../src/incremental/index.ts';
import { createHttpHandler } from '../src/server/http-handler.ts';

// The transport half of @defer over real HTTP: a stub gateway executor hands Apollo Server the initial
// result and attaches the rest to the context, as the real executor does; createHttpHandler delivers it.

const SDL = `
  directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT
  type Product { id: ID! name: String! }
  type Query { products: [Product!]! }
`;
const DEFERRED = '{ products { id ... @defer(label: "names") { name } } }';

interface Controlled extends IncrementalStream {
  returned: boolean;
}
/** A stream of payloads, each after its delay; `hang` waits after the last one until return(). */
function controlledStream(steps: { after: number; payload: SubsequentPayload }[], hang = false): Controlled {
  let i = 0;
  let wake: (() => void) | undefined;
  const stream: Controlled = {
    returned: false,
    async next() {
      if (stream.returned) return { done: true, value: undefined };
      const step = steps[i++];
      if (!step) {
        if (hang) await new Promise<void>((r) => (wake = r));
        return { done: true, value: undefined };
      }
      await new Promise((r) => setTimeout(r, step.after));
      return { done: false, value: step.payload };
    },
    async return() {
      stream.returned = true;
      wake?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

const streams: Controlled[] = [];
function twoPayloads(): Controlled {
  return controlledStream([
    {
      after: 10,
      payload: {
        incremental: [{ data: { name: 'One' }, path: ['products', 0], label: 'names' }],
        hasNext: true,
      },
    },
    {
      after: 150,
      payload: {
        incremental: [
          {
            data: { name: 'Two' },
            path: ['products', 1],
            label: 'names',
            errors: [new GraphQLError('price unavailable', { path: ['products', 1, 'name'] })],
          },
        ],
        hasNext: false,
      },
    },
  ]);
}

const schema = buildSchema(SDL);
let onSchema: ((s: { apiSchema: typeof schema; coreSupergraphSdl: string }) => void) | undefined;
const gateway: GatewayInterface = {
  onSchemaLoadOrUpdate(callback) {
    onSchema = callback;
    return () => {};
  },
  async stop() {},
  async load() {
    onSchema?.({ apiSchema: schema, coreSupergraphSdl: SDL });
    return {
      schema,
      executor: async (rc) => {
        const name = rc.operationName;
        if (!rc.source.includes('@defer')) return { data: { products: [{ id: '1', name: 'One' }] } };
        const stream =
          name === 'Hang'
            ? controlledStream(
                [
                  {
                    after: 10,
                    payload: {
                      incremental: [{ data: { name: 'One' }, path: ['products', 0] }],
                      hasNext: true,
                    },
                  },
                ],
                true,
              )
            : twoPayloads();
        streams.push(stream);
        attachIncremental(rc.context, stream);
        if (name === 'Failed') return { data: null, errors: [new GraphQLError('no products')] };
        return { data: { products: [{ id: '1' }, { id: '2' }] } };
      },
    };
  },
};

// Both Apollo Server and the handler format errors the same way; the mark shows it was applied.
const formatError = (formatted: GraphQLFormattedError) => ({
  ...formatted,
  extensions: { ...formatted.extensions, formatted: true },
});

let http: Server;
let url: string;
beforeAll(async () => {
  const apollo = new ApolloServer<BaseContext>({ gateway, formatError, allowBatchedHttpRequests: true });
  await apollo.start();
  const handler = createHttpHandler<BaseContext>({
    server: apollo,
    context: async () => ({}),
    maxBodyBytes: 100_000,
    ide: false,
    // one at a time, no queue: a response whose slot is not given back would shed every later request
    admission: createAdmission({
      maxConcurrentRequests: 1,
      maxEventLoopLagMs: 0,
      admission: {
        enabled: false,
        initialLimit: 1,
        minLimit: 1,
        tolerance: 1.5,
        smoothing: 0.2,
        queueTimeoutMs: 0,
        maxQueue: 0,
      },
      maxConnections: 0,
    }),
    maxBatchSize: 5,
    formatError,
    routes: {},
  });
  http = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
  return async () => {
    await new Promise((r) => http.close(r));
    await apollo.stop();
  };
});
afterAll(() => http?.closeAllConnections());

const APOLLO_ACCEPT = 'multipart/mixed;deferSpec=20220824,application/json';

function postOnce(body: unknown, accept: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
    });
    req.once('response', resolve).once('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * With maxConcurrent 1, a request sent right after the previous response was read can still find its slot
 * taken (the server gives it back on the response's 'close', a moment later): a 503 is retried briefly.
 */
async function post(body: unknown, accept: string): Promise<IncomingMessage> {
  for (let attempt = 0; ; attempt++) {
    const res = await postOnce(body, accept);
    if (res.statusCode !== 503 || attempt === 20) return res;
    res.resume();
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function text(res: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of res) out += chunk;
  return out;
}

describe('@defer over HTTP', () => {
  it('answers a multipart client with the initial part first and each deferred part as it arrives', async () => {
    const t0 = Date.now();
    const res = await post({ query: DEFERRED }, APOLLO_ACCEPT);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('multipart/mixed; boundary="-"; deferSpec=20220824');
    const parts = await meros<Record<string, unknown>>(res);
    if (!(Symbol.asyncIterator in parts)) throw new Error('not a multipart response');
    const received: { body: Record<string, unknown>; at: number }[] = [];
    for await (const part of parts) {
      expect(part.json).toBe(true);
      received.push({ body: part.body as Record<string, unknown>, at: Date.now() - t0 });
    }
    expect(received.map((p) => p.body)).toEqual([
      { data: { products: [{ id: '1' }, { id: '2' }] }, hasNext: true },
      { incremental: [{ data: { name: 'One' }, path: ['products', 0], label: 'names' }], hasNext: true },
      {
        incremental: [
          {
            data: { name: 'Two' },
            path: ['products', 1],
            label: 'names',
            errors: [
              {
                message: 'price unavailable',
                path: ['products', 1, 'name'],
                extensions: { code: 'INTERNAL_SERVER_ERROR', formatted: true },
              },
            ],
          },
        ],
        hasNext: false,
      },
    ]);
    // streamed, not buffered: the last part came well after the first
    expect(received[2]!.at - received[0]!.at).toBeGreaterThanOrEqual(100);
  });

  it('ends the body with the closing delimiter', async () => {
    const body = await text(await post({ query: DEFERRED }, 'multipart/mixed; deferSpec=20220824'));
    expect(body.startsWith('\r\n---\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{')).toBe(true);
    expect(body.endsWith('\r\n-----\r\n')).toBe(true);
    // the opening delimiter, one between each two of the three parts, the closing one
    expect(body.split('\r\n---').length).toBe(5);
  });

  it('gives a JSON-only client the whole result at once, merged', async () => {
    for (const accept of [
      'application/json',
      '*/*',
      'multipart/mixed; incrementalSpec=v0.2, application/json',
    ]) {
      const res = await post({ query: DEFERRED }, accept);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(await text(res))).toEqual({
        data: {
          products: [
            { id: '1', name: 'One' },
            { id: '2', name: 'Two' },
          ],
        },
        errors: [
          {
            message: 'price unavailable',
            path: ['products', 1, 'name'],
            extensions: { code: 'INTERNAL_SERVER_ERROR', formatted: true },
          },
        ],
      });
    }
  });

  it('cancels the stream when the client goes away mid-stream, and gives its slot back', async () => {
    const res = await post({ query: 'query Hang { products { id ... @defer { name } } }' }, APOLLO_ACCEPT);
    const stream = streams.at(-1)!;
    const parts = await meros<Record<string, unknown>>(res);
    if (!(Symbol.asyncIterator in parts)) throw new Error('not a multipart response');
    let seen = 0;
    for await (const part of parts) {
      seen++;
      if ((part.body as { incremental?: unknown }).incremental) break;
    }
    expect(seen).toBe(2);
    expect(stream.returned).toBe(false);
    res.destroy();
    await vi.waitFor(() => expect(stream.returned).toBe(true));
    // maxConcurrent is 1: this is shed with 503 unless the abandoned response gave its slot back
    expect((await post({ query: '{ products { id } }' }, 'application/json')).statusCode).toBe(200);
  });

  it('writes an unsuccessful result unchanged and cancels the stream', async () => {
    const res = await post({ query: 'query Failed { products { id ... @defer { name } } }' }, APOLLO_ACCEPT);
    const stream = streams.at(-1)!;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(await text(res))).toEqual({
      data: null,
      errors: [{ message: 'no products', extensions: { code: 'INTERNAL_SERVER_ERROR', formatted: true } }],
    });
    expect(stream.returned).toBe(true);
  });

  it('merges each deferred operation of a batch into its own result', async () => {
    const res = await post([{ query: '{ products { id name } }' }, { query: DEFERRED }], APOLLO_ACCEPT);
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(await text(res));
    expect(body).toHaveLength(2);
    expect(body[0]).toEqual({ data: { products: [{ id: '1', name: 'One' }] } });
    expect(body[1].data).toEqual({
      products: [
        { id: '1', name: 'One' },
        { id: '2', name: 'Two' },
      ],
    });
    expect(body[1].errors).toHaveLength(1);
  });

  it('answers operations without @defer as before, for both kinds of client', async () => {
    for (const accept of [APOLLO_ACCEPT, 'application/json']) {
      const res = await post({ query: '{ products { id } }' }, accept);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(await text(res))).toEqual({ data: { products: [{ id: '1', name: 'One' }] } });
    }
  });
});
