import { randomBytes } from 'node:crypto';
import {
  createDb,
  createPubSub,
  type Db,
  type ForwardedPrincipal,
  GOING_AWAY,
  migrate,
  type PubSub,
  type PubSubOptions,
  type Subgraph,
  seed,
  signRequest,
} from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import * as reviews from '../src/server.ts';

// Subscriptions across replicas: a review added through replica A reaches a `reviewAdded` subscriber on
// replica B, over the pub/sub the environment gives (Redis with REDIS_URL; else the database:
// LISTEN/NOTIFY on DATABASE_URL, the polled outbox on the embedded server). Upgrades are signed like
// requests, and a replica shutting down closes its sockets with 1001.

const SIGNING = { secret: 'reviews-subscriptions-test-signing-secret-0123' };
const user = (id: string): ForwardedPrincipal => ({ id, kind: 'user', scopes: [], plan: 'free' });
const REDIS_URL = process.env.REDIS_URL;
const EXPECTED_MECHANISM = REDIS_URL
  ? 'redis'
  : process.env.DATABASE_URL
    ? 'postgres-notify'
    : 'postgres-outbox';

const ADD_REVIEW = `mutation ($upc: String!, $body: String!) {
  addReview(upc: $upc, body: $body, rating: 4) { id }
}`;
const REVIEW_ADDED = `subscription ($upc: String) {
  reviewAdded(upc: $upc) { id body rating author { id } product { upc } }
}`;

interface Replica {
  db: Db;
  pubsub: PubSub;
  subgraph: Subgraph;
  url: string;
  wsUrl: string;
}

interface ReviewAdded {
  id: string;
  body: string;
  rating: number;
  author: { id: string } | null;
  product: { upc: string } | null;
}

/** A `ws` WebSocket whose upgrade request the gateway signed (body ''), for `principal` or nobody. */
function signedWebSocket(principal: ForwardedPrincipal | null) {
  return class SignedWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { headers: signRequest(principal, '', SIGNING) });
    }
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The status an upgrade to `url` is refused with (or 101 when it is accepted). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => {
      if (!String(err.message).includes('Unexpected server response')) reject(err);
    });
  });
}

describe('reviews: reviewAdded across replicas', () => {
  let database: TestDatabase;
  const replicas: Replica[] = [];
  const clients: Client[] = [];
  let pubsubOptions: PubSubOptions;
  let a: Replica;
  let b: Replica;

  const startReplica = async (): Promise<Replica> => {
    const db = createDb(database.url, { max: 4 });
    const pubsub = createPubSub({ ...pubsubOptions, pollIntervalMs: 50 });
    const subgraph = reviews.createSubgraph({ db, cache: false, signing: SIGNING, pubsub });
    const url = await subgraph.listen();
    const replica = { db, pubsub, subgraph, url, wsUrl: url.replace(/^http/, 'ws') };
    replicas.push(replica);
    return replica;
  };

  const connect = (
    replica: Replica,
    principal: ForwardedPrincipal | null = null,
    onClosed?: (code: number) => void,
  ) => {
    const client = createClient({
      url: replica.wsUrl,
      webSocketImpl: signedWebSocket(principal),
      retryAttempts: 0,
      lazy: true,
      on: { closed: (event) => onClosed?.((event as { code: number }).code) },
    });
    clients.push(client);
    return client;
  };

  /** Subscribes and resolves once the subscription is live on `replica` (its backend listening). */
  const subscribe = async (client: Client, replica: Replica, variables: Record<string, unknown> = {}) => {
    const before = replica.subgraph.subscriptions;
    const events = client.iterate<{ reviewAdded: ReviewAdded }>({ query: REVIEW_ADDED, variables });
    // iterate() subscribes on its first next(); hold that promise as the first event.
    const first = events.next();
    await until('the subscription to be live', () => replica.subgraph.subscriptions > before);
    let pending: typeof first | undefined = first;
    return {
      async next(): Promise<ReviewAdded> {
        const result = await (pending ?? events.next());
        pending = undefined;
        if (result.done) throw new Error('subscription ended');
        expect(result.value.errors).toBeUndefined();
        return result.value.data!.reviewAdded;
      },
      end: () => events.return?.(),
    };
  };

  const addReview = async (replica: Replica, upc: string, author: string) => {
    const body = JSON.stringify({
      query: ADD_REVIEW,
      variables: { upc, body: `live ${randomBytes(3).toString('hex')}` },
    });
    const res = await fetch(replica.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(user(author), body, SIGNING) },
      body,
    });
    const json = (await res.json()) as { data?: { addReview: { id: string } }; errors?: unknown };
    expect(json.errors).toBeUndefined();
    return {
      id: json.data!.addReview.id,
      body: (JSON.parse(body) as { variables: { body: string } }).variables.body,
    };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const admin = createDb(database.url, { max: 1 });
    await migrate(admin, reviews.definition);
    await seed(admin, reviews.definition, 'small');
    await admin.close();
    pubsubOptions = REDIS_URL
      ? { redisUrl: REDIS_URL, keyPrefix: `tollgate-test-${randomBytes(6).toString('hex')}` }
      : { databaseUrl: database.url };
    [a, b] = await Promise.all([startReplica(), startReplica()]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const r of replicas) {
      await r.subgraph.close();
      await r.pubsub.close();
      await r.db.close();
    }
    await database?.close();
  });

  it(`runs on the environment's pub/sub (${EXPECTED_MECHANISM})`, async () => {
    expect(await b.pubsub.mechanism()).toBe(EXPECTED_MECHANISM);
  });

  it('a review added on replica A reaches a subscriber on replica B, with its fields and references', async () => {
    const sub = await subscribe(connect(b, user('9')), b);
    const added = await addReview(a, '000007', '31');
    expect(await sub.next()).toEqual({
      id: added.id,
      body: added.body,
      rating: 4,
      author: { id: '31' },
      product: { upc: '000007' },
    });
    await sub.end();
    await until('the subscription to end', () => b.subgraph.subscriptions === 0);
  });

  it('with upc, only reviews of that product arrive', async () => {
    const client = connect(b);
    const all = await subscribe(client, b);
    const onlyEight = await subscribe(client, b, { upc: '000008' });
    const other = await addReview(a, '000009', '32');
    const wanted = await addReview(a, '000008', '33');
    expect((await all.next()).id).toBe(other.id);
    expect((await all.next()).id).toBe(wanted.id);
    // Its first event is the second review: the first, of another product, was filtered out.
    expect(await onlyEight.next()).toMatchObject({ id: wanted.id, product: { upc: '000008' } });
    await Promise.all([all.end(), onlyEight.end()]);
  });

  it('refuses an unsigned upgrade (401), a forged one (403) and other paths (404); accepts a signed one', async () => {
    expect(await upgradeStatus(b.wsUrl)).toBe(401);
    const forged = signRequest(null, '', { secret: 'not-the-gateway-secret-0123456789abcdef' });
    expect(await upgradeStatus(b.wsUrl, forged)).toBe(403);
    // Signed for a body other than '' (the gateway signs upgrades with the empty body).
    expect(await upgradeStatus(b.wsUrl, signRequest(null, '{}', SIGNING))).toBe(403);
    const stale = signRequest(null, '', { ...SIGNING, timestamp: Date.now() - 120_000 });
    expect(await upgradeStatus(b.wsUrl, stale)).toBe(403);
    expect(await upgradeStatus(b.wsUrl.replace('/graphql', '/other'), signRequest(null, '', SIGNING))).toBe(
      404,
    );
    expect(await upgradeStatus(b.wsUrl, signRequest(null, '', SIGNING))).toBe(101);
  });

  it('close() ends every client socket with 1001 and returns promptly', async () => {
    const c = await startReplica();
    const codes: number[] = [];
    const sub = await subscribe(
      connect(c, null, (code) => codes.push(code)),
      c,
    );
    const ended = sub.next().then(
      () => 'event',
      () => 'ended',
    );
    const started = Date.now();
    await c.subgraph.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await until('the client to see the close', () => codes.length > 0);
    expect(codes).toEqual([GOING_AWAY]);
    expect(GOING_AWAY).toBe(1001);
    expect(await ended).toBe('ended');
    expect(c.subgraph.subscriptions).toBe(0);
  });
});
