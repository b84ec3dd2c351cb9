import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse } from 'graphql';

type Resolvers = GraphQLResolverMap<unknown>;

export interface TestSubgraph {
  url: string;
  sdl: string;
  /** Operations this replica received, in order. */
  received: string[];
  stop(): Promise<void>;
}

/** A small in-process Federation 2 subgraph on port 0 that records what it receives. */
export async function startTestSubgraph(sdl: string, resolvers: Resolvers): Promise<TestSubgraph> {
  const received: string[] = [];
  const server = new ApolloServer({
    schema: buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart({ request }) {
          if (request.query && !request.query.includes('__typename }')) received.push(request.query);
        },
      },
    ],
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, sdl, received, stop: () => server.stop() };
}

export const PRODUCTS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "upc") { upc: String! name: String! price: Int! }
  type Query { topProducts(first: Int = 5): [Product!]! }
`;
export const REVIEWS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
  type Product @key(fields: "upc") { upc: String! reviews: [Review!] }
  type Review { id: ID! body: String! }
`;

const products = Array.from({ length: 10 }, (_, i) => ({
  upc: String(i + 1),
  name: `Product ${i + 1}`,
  price: (i + 1) * 100,
}));

export const productsResolvers: Resolvers = {
  Query: { topProducts: (_: unknown, args: { first: number }) => products.slice(0, args.first) },
  Product: { __resolveReference: (ref: { upc: string }) => products.find((p) => p.upc === ref.upc) },
};
export const reviewsResolvers: Resolvers = {
  Product: {
    __resolveReference: (ref: { upc: string }) => ref,
    reviews: (p: { upc: string }) => [{ id: `r${p.upc}`, body: `Review of ${p.upc}` }],
  },
};

export async function gql(
  url: string,
  query: string,
  init: { headers?: Record<string, string>; variables?: unknown } = {},
) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ query, variables: init.variables }),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
    },
  };
}

export interface GatewayProcess {
  child: ChildProcess;
  /** The GraphQL URL from the ready line; rejects if the process exits first. */
  ready: Promise<string>;
  /** The admin listener's origin, from the line after the ready line (/metrics, /admin/*). */
  admin: Promise<string>;
  exit: Promise<{ code: number | null; stderr: string }>;
}

const running: ChildProcess[] = [];
/** Kills every gateway process `spawnGateway` started that is still running (for afterEach/afterAll). */
export function killGateways(): void {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Runs the `tollgate` CLI (gateway/bin/tollgate.js) as a child process, with no config file of its own. */
export function spawnGateway(args: string[], env: Record<string, string> = {}): GatewayProcess {
  const bin = fileURLToPath(new URL('../bin/tollgate.js', import.meta.url));
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEWAY_CONFIG: '', ...env },
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
  });
  const line = (pattern: RegExp) => {
    const found = new Promise<string>((resolve, reject) => {
      const look = () => {
        const m = pattern.exec(stdout);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', look);
      look();
      child.once('exit', () => reject(new Error(`exited before ${pattern}: ${stderr}`)));
    });
    found.catch(() => {});
    return found;
  };
  const ready = line(/gateway ready at (\S+)/);
  const admin = line(/admin listener .* at (\S+)/);
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  );
  return { child, ready, admin, exit };
}

/** A temporary folder for a test file's schema and config files. */
export function tempFiles(prefix: string): { dir: string; write(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), `tollgate-${prefix}-`));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** Runs `count` tasks, `concurrency` at a time (a bounded loop: no unbounded fan-out on a busy machine). */
export async function pooled<T>(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/** A port nothing listens on right now (for a replica that refuses connections). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
