// Test fixtures: a throwaway database per test file and a subgraph started on it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ServiceLocation } from './db/index.ts';
import { createDb, type Db, migrate, type SeedSize, seed, startEmbeddedPostgres } from './db/index.ts';
import type { Subgraph, SubgraphDeps } from './server/index.ts';
import { type ForwardedPrincipal, signRequest } from './signing/index.ts';

export interface TestDatabase {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A fresh, empty database. With `DATABASE_URL` set it creates `tollgate_t_<random>` on that
 * server (and drops it on close); otherwise it starts an embedded PGlite server on port 0, so test
 * files can run in parallel without sharing state or ports.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) return startEmbeddedPostgres();

  const name = `tollgate_t_${randomBytes(6).toString('hex')}`;
  await withAdmin(base, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  let closed: Promise<void> | undefined;
  return {
    url: url.toString(),
    close() {
      closed ??= withAdmin(base, async (admin) => {
        // A pool the test forgot to close would block DROP DATABASE.
        await admin.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      });
      return closed;
    },
  };
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestService {
  definition: ServiceLocation;
  createSubgraph(opts: SubgraphDeps): Subgraph;
}

export interface GraphQLResult {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface TestSubgraph {
  /** `http://127.0.0.1:PORT/graphql` */
  readonly url: string;
  /** The handle the subgraph uses: read `db.statements` around a request to count its SQL. */
  readonly db: Db;
  readonly subgraph: Subgraph;
  /**
   * POSTs a GraphQL request as the gateway would: signed on nobody's behalf when the subgraph was
   * started with `deps.signing`, unsigned otherwise.
   */
  request(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResult>;
  /** POSTs a request the gateway signed for `principal` (needs `deps.signing`). */
  requestAs(
    principal: ForwardedPrincipal,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResult>;
  close(): Promise<void>;
}

export interface StartTestSubgraphOptions {
  /** @default 'small' */
  seed?: SeedSize;
  /** The rest of what the service's `createSubgraph` takes, e.g. `{ cache }` (the fixture owns `db`). */
  deps?: Omit<SubgraphDeps, 'db'>;
}

/** A service's subgraph on port 0 over a fresh test database with its migrations and seed applied. */
export async function startTestSubgraph(
  service: TestService,
  opts: StartTestSubgraphOptions = {},
): Promise<TestSubgraph> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  let subgraph: Subgraph | undefined;
  try {
    await migrate(db, service.definition);
    await seed(db, service.definition, opts.seed ?? 'small');
    subgraph = service.createSubgraph({ ...opts.deps, db });
    const url = await subgraph.listen();
    const started = subgraph;
    const secret = opts.deps?.signing?.secret;
    const post = async (
      principal: ForwardedPrincipal | null,
      query: string,
      variables: Record<string, unknown> | undefined,
      headers: Record<string, string>,
    ): Promise<GraphQLResult> => {
      const body = JSON.stringify({ query, variables });
      const signed = secret === undefined ? {} : signRequest(principal, body, { secret });
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed, ...headers },
        body,
      });
      return { status: res.status, body: (await res.json()) as GraphQLResult['body'] };
    };
    return {
      url,
      db,
      subgraph: started,
      request: (query, variables, headers = {}) => post(null, query, variables, headers),
      requestAs(principal, query, variables) {
        if (secret === undefined) throw new Error('requestAs needs a subgraph started with deps.signing');
        return post(principal, query, variables, {});
      },
      async close() {
        await started.close();
        await db.close();
        await database.close();
      },
    };
  } catch (err) {
    await subgraph?.close();
    await db.close();
    await database.close();
    throw err;
  }
}
