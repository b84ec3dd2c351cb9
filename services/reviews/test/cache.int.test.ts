import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  type Cache,
  createCache,
  createDb,
  type Db,
  type ForwardedPrincipal,
  loaderStats,
  migrate,
  type Subgraph,
  seed,
  signRequest,
} from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as reviews from '../src/server.ts';

// The shared loader cache on the reviews subgraph: warm reads send no SQL, addReview is visible at
// once (one replica or two sharing Redis), concurrent cold requests share one statement, and a dead or
// hung Redis costs latency, never an answer. On the embedded database or DATABASE_URL; Redis cases
// run with REDIS_URL (and a private redis-server when one is on PATH).

const SIGNING = { secret: 'reviews-cache-test-signing-secret-0123456789' };
const user = (id: string): ForwardedPrincipal => ({ id, kind: 'user', scopes: [], plan: 'free' });
const REDIS_URL = process.env.REDIS_URL;
const HAS_REDIS_SERVER = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

// Both lists in one request: two loaders, so two statements on a cold cache and none on a warm one.
const LISTS = `query ($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Product { upc reviews { id body author { id } } }
    ... on User { id reviews { id body product { upc } } }
  }
}`;
const ADD_REVIEW = `mutation ($upc: String!, $body: String!) {
  addReview(upc: $upc, body: $body, rating: 5) { id body }
}`;

interface Replica {
  db: Db;
  subgraph: Subgraph;
  url: string;
  /** Signed as the gateway would sign it; `as` names the user, reads go on nobody's behalf. */
  request(query: string, variables: Record<string, unknown>, as?: ForwardedPrincipal): Promise<GraphQLBody>;
}

interface GraphQLBody {
  data?: { _entities?: Entity[]; addReview?: { id: string; body: string } } | null;
  errors?: { message: string }[];
}

type Entity = { upc?: string; id?: string; reviews: { id: string; body: string }[] };

const representations = (upcs: string[], users: string[]) => ({
  r: [
    ...upcs.map((upc) => ({ __typename: 'Product', upc })),
    ...users.map((id) => ({ __typename: 'User', id })),
  ],
});

describe('reviews: the shared loader cache', () => {
  let database: TestDatabase;
  const open: { replicas: Replica[]; caches: Cache[] } = { replicas: [], caches: [] };

  beforeAll(async () => {
    database = await createTestDatabase();
    const admin = createDb(database.url, { max: 1 });
    await migrate(admin, reviews.definition);
    await seed(admin, reviews.definition, 'small');
    await admin.close();
  });
  afterAll(async () => {
    for (const r of open.replicas) {
      await r.subgraph.close();
      await r.db.close();
    }
    await open.caches[0]?.clear().catch(() => {});
    await Promise.all(open.caches.map((c) => c.close()));
    await database?.close();
  });

  /**
   * A cache on the given Redis (or in process), under a prefix no other run uses. The timeout is generous
   * unless a test is about it: on a loaded CI box a 50 ms call can time out, which is a correct fallback
   * to the database but would add statements to tests that count them.
   */
  const cacheOn = (
    redisUrl?: string,
    { keyPrefix = `tollgate-test-${randomBytes(6).toString('hex')}`, timeoutMs = 1000, quiet = false } = {},
  ) => {
    const cache = createCache({
      keyPrefix,
      timeoutMs,
      ...(redisUrl ? { redisUrl } : {}),
      // Tests that break Redis on purpose expect these failures; the fallback is what they check.
      ...(quiet ? { onError: () => {} } : {}),
    });
    open.caches.push(cache);
    return cache;
  };

  /** A replica with its own pool, so its statements are counted apart from every other replica's. */
  const startReplica = async (cache: Cache): Promise<Replica> => {
    const db = createDb(database.url, { max: 4 });
    const subgraph = reviews.createSubgraph({ db, cache, signing: SIGNING });
    const url = await subgraph.listen();
    const replica: Replica = {
      db,
      subgraph,
      url,
      async request(query, variables, as) {
        const body = JSON.stringify({ query, variables });
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signRequest(as ?? null, body, SIGNING) },
          body,
        });
        return (await res.json()) as GraphQLBody;
      },
    };
    open.replicas.push(replica);
    return replica;
  };

  /**
   * One request on keys no test uses: the replica's first request also waits for Apollo and for the
   * Redis connection (a first cache call that outlasts the 50 ms timeout goes to the database unfilled).
   */
  const warmUp = async (replica: Replica) => {
    await replica.request(LISTS, representations(['999998'], ['nobody']));
  };

  /** Runs a request and returns its body with the statements it sent on `replica`. */
  const counted = async (replica: Replica, run: () => Promise<GraphQLBody>) => {
    const before = replica.db.statements;
    const body = await run();
    expect(body.errors).toBeUndefined();
    return { body, statements: replica.db.statements - before };
  };

  const reviewIds = (body: GraphQLBody, key: string) =>
    body.data?._entities?.find((e) => e.upc === key || e.id === key)?.reviews.map((r) => r.id) ?? [];

  let nextUpc = 10;
  /** A product and an author no earlier test touched, so every test starts cold on its keys. */
  const freshKeys = () => {
    nextUpc += 3;
    return { upc: String(nextUpc).padStart(6, '0'), author: String(nextUpc % 100 || 100) };
  };

  const backends: [string, () => Cache][] = [['in-process', () => cacheOn()]];
  if (REDIS_URL) backends.push(['redis', () => cacheOn(REDIS_URL)]);

  describe.each(backends)('%s cache', (_, makeCache) => {
    it('serves a repeated query with no SQL, and addReview shows up in the very next one', async () => {
      const replica = await startReplica(makeCache());
      await warmUp(replica);
      const { upc, author } = freshKeys();
      const vars = representations([upc, '000001'], [author, '2']);

      const cold = await counted(replica, () => replica.request(LISTS, vars));
      expect(cold.statements).toBe(2);
      const warm = await counted(replica, () => replica.request(LISTS, vars));
      expect(warm).toEqual({ body: cold.body, statements: 0 });

      const added = await counted(replica, () =>
        replica.request(ADD_REVIEW, { upc, body: `cached ${randomBytes(3).toString('hex')}` }, user(author)),
      );
      // The INSERT; invalidation costs no SQL.
      expect(added.statements).toBe(1);
      const id = added.body.data!.addReview!.id;

      const after = await counted(replica, () => replica.request(LISTS, vars));
      expect(reviewIds(after.body, upc)).toEqual([...reviewIds(cold.body, upc), id]);
      expect(reviewIds(after.body, author)).toEqual([...reviewIds(cold.body, author), id]);
      // Only the two invalidated keys were read again, one statement per list.
      expect(after.statements).toBe(2);
      expect(reviewIds(after.body, '000001')).toEqual(reviewIds(cold.body, '000001'));
      const again = await counted(replica, () => replica.request(LISTS, vars));
      expect(again).toEqual({ body: after.body, statements: 0 });
    });

    it('100 concurrent identical requests on a cold cache send one statement per list', async () => {
      const replica = await startReplica(makeCache());
      const vars = representations(
        Array.from({ length: 8 }, (_, i) => String(i + 100).padStart(6, '0')),
        Array.from({ length: 4 }, (_, i) => String(i + 40)),
      );
      await warmUp(replica);
      const statsBefore = loaderStats();
      const before = replica.db.statements;
      const bodies = await Promise.all(Array.from({ length: 100 }, () => replica.request(LISTS, vars)));
      expect(replica.db.statements - before).toBe(2);
      for (const body of bodies) expect(body).toEqual(bodies[0]);
      expect(bodies[0]?.errors).toBeUndefined();
      const stats = loaderStats();
      const delta = (loader: string, field: 'batches' | 'hits' | 'joined' | 'statements') =>
        stats[`reviews.${loader}`]![field] - (statsBefore[`reviews.${loader}`]?.[field] ?? 0);
      expect(delta('reviewsByProduct', 'batches')).toBe(100);
      expect(delta('reviewsByProduct', 'statements')).toBe(1);
      // Every other request was answered by the one read (joined) or by the cache it filled (hits).
      expect(delta('reviewsByProduct', 'hits') + delta('reviewsByProduct', 'joined')).toBe(99 * 8);
    });
  });

  describe.skipIf(!REDIS_URL)('two replicas sharing Redis', () => {
    it('a review added through one replica is in the next read through the other', async () => {
      const keyPrefix = `tollgate-test-${randomBytes(6).toString('hex')}`;
      const [a, b] = [
        await startReplica(cacheOn(REDIS_URL, { keyPrefix })),
        await startReplica(cacheOn(REDIS_URL, { keyPrefix })),
      ];
      await Promise.all([warmUp(a), warmUp(b)]);
      for (let round = 0; round < 5; round++) {
        const { upc, author } = freshKeys();
        const vars = representations([upc], [author]);
        // Both replicas warm, and b answers from the cache a filled.
        const seen = await a.request(LISTS, vars);
        expect(await counted(b, () => b.request(LISTS, vars))).toEqual({ body: seen, statements: 0 });

        const added = await a.request(ADD_REVIEW, { upc, body: `round ${round}` }, user(author));
        const id = added.data!.addReview!.id;
        const viaB = await b.request(LISTS, vars);
        expect(reviewIds(viaB, upc)).toEqual([...reviewIds(seen, upc), id]);
        expect(reviewIds(viaB, author)).toEqual([...reviewIds(seen, author), id]);
        expect(await a.request(LISTS, vars)).toEqual(viaB);
      }
    });
  });

  describe.skipIf(!HAS_REDIS_SERVER)('Redis stopped', () => {
    let server: ChildProcess | undefined;
    afterAll(() => {
      server?.kill('SIGKILL');
    });

    it('every query still succeeds, from the database, and writes stay visible', async () => {
      const port = await freePort();
      server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitForRedis(port);
      // Short enough that a reconnect in progress cannot hold a request up for long.
      const replica = await startReplica(
        cacheOn(`redis://127.0.0.1:${port}`, { timeoutMs: 200, quiet: true }),
      );
      await warmUp(replica);
      const { upc, author } = freshKeys();
      const vars = representations([upc], [author]);
      const cold = await counted(replica, () => replica.request(LISTS, vars));
      expect(cold.statements).toBe(2);
      expect((await counted(replica, () => replica.request(LISTS, vars))).statements).toBe(0);

      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;

      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const down = await counted(replica, () => replica.request(LISTS, vars));
        expect(performance.now() - started).toBeLessThan(1000);
        expect(down).toEqual({ body: cold.body, statements: 2 });
      }
      const added = await replica.request(ADD_REVIEW, { upc, body: 'while Redis was down' }, user(author));
      expect(added.errors).toBeUndefined();
      const after = await replica.request(LISTS, vars);
      expect(reviewIds(after, upc)).toEqual([...reviewIds(cold.body, upc), added.data!.addReview!.id]);
    });
  });

  describe('Redis hung (accepts, never answers)', () => {
    let blackHole: Server;
    const sockets = new Set<Socket>();
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => blackHole?.close(resolve));
    });

    it('answers from the database within the cache timeout, mutations included', async () => {
      blackHole = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
      const port = (blackHole.address() as { port: number }).port;
      // The default timeout: this test is about it.
      const replica = await startReplica(
        cacheOn(`redis://127.0.0.1:${port}`, { timeoutMs: 50, quiet: true }),
      );
      const { upc, author } = freshKeys();
      const vars = representations([upc], [author]);
      const first = await counted(replica, () => replica.request(LISTS, vars));
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const again = await counted(replica, () => replica.request(LISTS, vars));
        // Two batches in parallel, each waiting at most the 50 ms timeout for Redis.
        expect(performance.now() - started).toBeLessThan(500);
        expect(again).toEqual({ body: first.body, statements: 2 });
      }
      const added = await replica.request(ADD_REVIEW, { upc, body: 'with Redis hung' }, user(author));
      expect(added.errors).toBeUndefined();
      expect(reviewIds(await replica.request(LISTS, vars), upc)).toContain(added.data!.addReview!.id);
    });
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Waits until a PING on the port gets PONG (raw RESP, so the test needs no client of its own). */
async function waitForRedis(port: number): Promise<void> {
  const ping = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(200, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        resolve(chunk.toString().startsWith('+PONG'));
        socket.destroy();
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    });
  for (let i = 0; i < 100; i++) {
    if (await ping()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not start`);
}
