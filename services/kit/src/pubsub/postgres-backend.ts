import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Backend, type Deliver, type PubSubMechanism, within } from './backend.ts';
import { decodeNotice, encodeMessage, encodeProbe, MAX_NOTIFY_BYTES } from './envelope.ts';
import { PubSubError } from './errors.ts';

/** `notify`: LISTEN/NOTIFY; `outbox`: the events table, polled; `auto`: NOTIFY if a probe comes back. */
export type PostgresPubSubMode = 'auto' | 'notify' | 'outbox';

export interface PostgresBackendOptions {
  url: string;
  mode: PostgresPubSubMode;
  pollIntervalMs: number;
  deliver: Deliver;
  has: (topic: string) => boolean;
  onError: (err: Error) => void;
}

const CHANNEL = 'tollgate_pubsub';
const TABLE = 'public.tollgate_pubsub_events';
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${TABLE} (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;
// On PostgreSQL, NOTIFY answers in about a millisecond; a probe unanswered this long means the server
// does not deliver notifications across connections (the embedded PGlite server: one shared session).
const PROBE_TIMEOUT_MS = 1000;
const RECONNECT_MS = 1000;
const PRUNE_EVERY_MS = 30_000;
// Outbox rows older than this are deleted: a poller that far behind has lost its subscribers anyway.
const KEEP_ROWS = '5 minutes';
const BATCH = 500;

/**
 * PostgreSQL as the transport. With `notify`, a dedicated client LISTENs on one channel and each publish
 * is one `pg_notify` carrying the message (or, above PostgreSQL's 8000-byte limit, a reference to a row of
 * the events table). With `outbox`, each publish inserts a row into `public.tollgate_pubsub_events` and
 * every replica with subscribers polls for rows after the last id it saw, starting at the newest row
 * when its first subscriber arrives. That cursor relies on ids committing in order, which holds on the
 * embedded server (one session runs one statement at a time) that the outbox is for.
 */
export class PostgresBackend implements Backend {
  readonly #o: PostgresBackendOptions;
  readonly #pool: pg.Pool;
  #started: Promise<'postgres-notify' | 'postgres-outbox'>;
  #listener: pg.Client | undefined;
  #probe: { token: string; resolve: () => void } | undefined;
  #closed = false;
  #lastPrune = 0;
  // Outbox polling, only while there are subscribers.
  #active = false;
  #generation = 0;
  #cursor: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling = false;

  constructor(options: PostgresBackendOptions) {
    this.#o = options;
    this.#pool = new pg.Pool({ connectionString: options.url, max: 2 });
    this.#pool.on('error', () => {});
    this.#started = this.#begin();
  }

  mechanism(): Promise<PubSubMechanism> {
    return this.#ready();
  }

  async listening(): Promise<void> {
    const mechanism = await this.#ready();
    if (mechanism === 'postgres-outbox' && this.#cursor) await this.#cursor;
  }

  async publish(topic: string, payloadJson: string): Promise<void> {
    const mechanism = await this.#ready();
    try {
      if (mechanism === 'postgres-outbox') {
        await this.#pool.query(`INSERT INTO ${TABLE} (topic, payload) VALUES ($1, $2)`, [topic, payloadJson]);
      } else {
        const message = encodeMessage(topic, payloadJson);
        if (Buffer.byteLength(message) <= MAX_NOTIFY_BYTES) {
          await this.#pool.query('SELECT pg_notify($1, $2)', [CHANNEL, message]);
        } else {
          // Too big for NOTIFY: the row holds it, the notice names the row (one statement, one transaction).
          await this.#pool.query(
            `WITH e AS (INSERT INTO ${TABLE} (topic, payload) VALUES ($2, $3) RETURNING id)
             SELECT pg_notify($1, json_build_object('r', e.id::text)::text) FROM e`,
            [CHANNEL, topic, payloadJson],
          );
        }
      }
    } catch (err) {
      throw new PubSubError('PUBSUB_UNAVAILABLE', `postgres publish failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#pruneNowAndThen();
  }

  setActive(active: boolean): void {
    this.#active = active;
    const generation = ++this.#generation;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#cursor = undefined;
    if (!active || this.#closed) return;
    this.#cursor = this.#ready().then(async (mechanism) => {
      if (mechanism !== 'postgres-outbox') return '0';
      const [row] = (
        await this.#pool.query<{ id: string }>(`SELECT coalesce(max(id), 0)::text AS id FROM ${TABLE}`)
      ).rows;
      return row?.id ?? '0';
    });
    this.#cursor.then(
      (start) => {
        if (generation !== this.#generation || this.#closed) return;
        let cursor = start;
        this.#timer = setInterval(async () => {
          if (this.#polling) return;
          this.#polling = true;
          try {
            cursor = await this.#poll(cursor);
          } catch (err) {
            this.#o.onError(new Error(`pubsub outbox poll failed: ${(err as Error).message}`));
          } finally {
            this.#polling = false;
          }
        }, this.#o.pollIntervalMs);
      },
      (err: unknown) => this.#o.onError(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#started.catch(() => {});
    await this.#listener?.end().catch(() => {});
    await this.#pool.end();
  }

  /** The start, begun again if the last attempt failed (the database was away), as PubSubError. */
  #ready(): Promise<'postgres-notify' | 'postgres-outbox'> {
    return this.#started.catch((err: unknown) => {
      if (!this.#closed) this.#started = this.#begin();
      throw new PubSubError(
        'PUBSUB_UNAVAILABLE',
        `postgres pubsub did not start: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    });
  }

  #begin(): Promise<'postgres-notify' | 'postgres-outbox'> {
    const started = this.#start().catch(async (err: unknown) => {
      const listener = this.#listener;
      this.#listener = undefined;
      await listener?.end().catch(() => {});
      throw err;
    });
    started.catch(() => {});
    return started;
  }

  async #start(): Promise<'postgres-notify' | 'postgres-outbox'> {
    await createTable(this.#pool);
    if (this.#o.mode === 'outbox') return 'postgres-outbox';
    await this.#listen();
    if (this.#o.mode === 'notify') return 'postgres-notify';
    const token = randomBytes(8).toString('hex');
    const answered = new Promise<void>((resolve) => {
      this.#probe = { token, resolve };
    });
    await this.#pool.query('SELECT pg_notify($1, $2)', [CHANNEL, encodeProbe(token)]);
    const ok = await within(answered, PROBE_TIMEOUT_MS, () => new Error('no answer')).then(
      () => true,
      () => false,
    );
    this.#probe = undefined;
    if (ok) return 'postgres-notify';
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => {});
    return 'postgres-outbox';
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url });
    client.on('error', () => {});
    client.on('notification', (n) => {
      if (n.channel === CHANNEL && n.payload !== undefined) this.#onNotice(n.payload);
    });
    client.once('end', () => {
      if (this.#closed || this.#listener !== client) return;
      // Notices sent while no client listens are lost; subscribers see a gap, not an error.
      this.#o.onError(new Error('pubsub LISTEN connection lost; reconnecting'));
      this.#listener = undefined;
      setTimeout(() => this.#reconnect(), RECONNECT_MS).unref();
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.#listener = client;
    if (this.#closed) await client.end().catch(() => {});
  }

  #reconnect(): void {
    if (this.#closed) return;
    this.#listen().catch((err: unknown) => {
      this.#o.onError(new Error(`pubsub LISTEN reconnect failed: ${(err as Error).message}`));
      setTimeout(() => this.#reconnect(), RECONNECT_MS).unref();
    });
  }

  #onNotice(text: string): void {
    const notice = decodeNotice(text);
    if (notice === undefined) return;
    if (notice.kind === 'probe') {
      if (notice.token === this.#probe?.token) this.#probe.resolve();
      return;
    }
    if (notice.kind === 'message') {
      if (this.#o.has(notice.topic)) this.#o.deliver(notice.topic, notice.payload);
      return;
    }
    this.#pool
      .query<{ topic: string; payload: string }>(`SELECT topic, payload FROM ${TABLE} WHERE id = $1`, [
        notice.id,
      ])
      .then(({ rows: [row] }) => {
        if (row && this.#o.has(row.topic)) this.#o.deliver(row.topic, JSON.parse(row.payload));
      })
      .catch((err: unknown) =>
        this.#o.onError(new Error(`pubsub read of event ${notice.id} failed: ${String(err)}`)),
      );
  }

  async #poll(after: string): Promise<string> {
    let cursor = after;
    for (;;) {
      const { rows } = await this.#pool.query<{ id: string; topic: string; payload: string }>(
        `SELECT id::text AS id, topic, payload FROM ${TABLE} WHERE id > $1 ORDER BY id LIMIT ${BATCH}`,
        [cursor],
      );
      for (const row of rows) {
        cursor = row.id;
        if (!this.#active || !this.#o.has(row.topic)) continue;
        try {
          this.#o.deliver(row.topic, JSON.parse(row.payload));
        } catch (err) {
          this.#o.onError(new Error(`pubsub event ${row.id}: ${(err as Error).message}`));
        }
      }
      if (rows.length < BATCH) return cursor;
    }
  }

  #pruneNowAndThen(): void {
    const now = Date.now();
    if (now - this.#lastPrune < PRUNE_EVERY_MS) return;
    this.#lastPrune = now;
    this.#pool
      .query(`DELETE FROM ${TABLE} WHERE created_at < now() - interval '${KEEP_ROWS}'`)
      .catch((err: unknown) => this.#o.onError(new Error(`pubsub prune failed: ${String(err)}`)));
  }
}

async function createTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(CREATE_TABLE);
  } catch (err) {
    // Replicas starting together race to create it; the loser sees a unique violation on the catalog.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}
