// The four benchmark subgraphs in ONE process: an HTTP server each on 127.0.0.1, graphql-js straight
// over raw node:http (no framework, documents parsed and validated once per query text), static data.
// Also an OTLP/HTTP sink, so a gateway with telemetry on exports somewhere real instead of retrying
// against a closed port. Prints one JSON ready line: {"ready":true,"subgraphs":{name:url},"otlp":url,"stats":url}.
// `GET /stats` on any of the servers answers the request counts, so the bench can report subgraph
// fetches per gateway request (which is how in-flight dedup would show).
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type DocumentNode, execute, type GraphQLSchema, parse, validate } from 'graphql';
import { stopWithParent } from '../lib/child.ts';
import { buildData } from './data.ts';
import { createResolvers, SUBGRAPH_NAMES, type SubgraphName } from './resolvers.ts';

const SERVICES_DIR = new URL('../../../services/', import.meta.url);
const MAX_CACHED_DOCUMENTS = 1_000;
const PROBE_QUERY = '{ __typename }';

interface Stats {
  requests: Record<string, number>;
  otlp: { requests: number; bytes: number };
}

const stats: Stats = { requests: {}, otlp: { requests: 0, bytes: 0 } };

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, text: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface GraphQLBody {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

type Prepared = { document: DocumentNode } | { errors: readonly { message: string }[] };

function graphqlHandler(name: SubgraphName, schema: GraphQLSchema) {
  // The gateway sends the same few subgraph operations over and over: parse and validate each once.
  const documents = new Map<string, Prepared>();
  const prepare = (query: string): Prepared => {
    let prepared = documents.get(query);
    if (prepared) return prepared;
    try {
      const document = parse(query);
      const errors = validate(schema, document);
      prepared = errors.length ? { errors: errors.map((e) => ({ message: e.message })) } : { document };
    } catch (error) {
      prepared = { errors: [{ message: (error as Error).message }] };
    }
    if (documents.size >= MAX_CACHED_DOCUMENTS) documents.clear();
    documents.set(query, prepared);
    return prepared;
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'GET' && req.url === '/stats') return send(res, 200, JSON.stringify(stats));
    if (req.method !== 'POST') return send(res, 405, '{"errors":[{"message":"POST only"}]}');
    let body: GraphQLBody;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8')) as GraphQLBody;
    } catch {
      return send(res, 400, '{"errors":[{"message":"malformed JSON body"}]}');
    }
    if (typeof body.query !== 'string') return send(res, 400, '{"errors":[{"message":"missing query"}]}');
    // Tollgate's readiness probes (`{ __typename }` every 2 s) are not fetches of any query plan.
    if (body.query !== PROBE_QUERY) stats.requests[name] = (stats.requests[name] ?? 0) + 1;
    const prepared = prepare(body.query);
    if ('errors' in prepared) return send(res, 400, JSON.stringify({ errors: prepared.errors }));
    const userId = req.headers['x-user-id'];
    const result = await execute({
      schema,
      document: prepared.document,
      variableValues: (body.variables as Record<string, unknown> | null | undefined) ?? undefined,
      operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
      contextValue: { userId: typeof userId === 'string' ? userId : undefined },
    });
    send(res, 200, JSON.stringify(result));
  };
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<{ server: Server; origin: string }> {
  // Keep-alive well beyond the gateways' idle timeouts (30 s), so no pooled connection is closed under
  // them between runs (a race that shows up as a spurious socket error at the start of a run).
  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 }, (req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, JSON.stringify({ errors: [{ message: (error as Error).message }] }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const data = buildData();
const resolvers = createResolvers(data);
const servers: Server[] = [];
const urls: Record<string, string> = {};
for (const name of SUBGRAPH_NAMES) {
  const sdl = readFileSync(new URL(`${name}/schema.graphql`, SERVICES_DIR), 'utf8');
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers[name] });
  const { server, origin } = await listen(graphqlHandler(name, schema));
  servers.push(server);
  urls[name] = `${origin}/graphql`;
}

// OTLP/HTTP: an empty 200 is a valid ExportTraceServiceResponse in both protobuf and JSON encodings.
const otlp = await listen(async (req, res) => {
  if (req.method === 'GET' && req.url === '/stats') return send(res, 200, JSON.stringify(stats));
  const body = await readBody(req);
  stats.otlp.requests++;
  stats.otlp.bytes += body.length;
  const json = String(req.headers['content-type']).includes('json');
  send(res, 200, json ? '{}' : '', json ? 'application/json' : 'application/x-protobuf');
});
servers.push(otlp.server);

stopWithParent(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

process.stdout.write(
  `${JSON.stringify({ ready: true, subgraphs: urls, otlp: otlp.origin, stats: `${otlp.origin}/stats`, counts: data.counts })}\n`,
);
