import pg from 'pg';

export interface DbOptions {
  /**
   * Pool size. Keep it small: every replica holds its own pool and the embedded server
   * multiplexes all of them onto one session.
   * @default 4
   */
  max?: number;
}

/** The narrow slice of `Db` that loaders and seeds need. */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Db extends Queryable {
  /** How many statements this handle has sent (tests count SQL per request with it). */
  readonly statements: number;
  close(): Promise<void>;
}

class PoolDb implements Db {
  #pool: pg.Pool;
  #statements = 0;
  #closed: Promise<void> | undefined;

  constructor(url: string, opts: DbOptions) {
    this.#pool = new pg.Pool({ connectionString: url, max: opts.max ?? 4 });
    // An idle client dies when the server restarts or the test database is dropped; pg emits
    // that on the pool, and an unhandled 'error' event would kill the whole process.
    this.#pool.on('error', () => {});
  }

  get statements(): number {
    return this.#statements;
  }

  async query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
    this.#statements++;
    // Without params pg uses the simple protocol, which lets migrations and seeds send several
    // statements as one message (one implicit transaction, never interleaved on the embedded server).
    const result = await this.#pool.query(text, params === undefined ? undefined : [...params]);
    return result.rows as R[];
  }

  close(): Promise<void> {
    this.#closed ??= this.#pool.end();
    return this.#closed;
  }
}

/**
 * A PostgreSQL handle over `pg.Pool`. It has no transaction API on purpose: the embedded server
 * runs every connection on one session, so a transaction spread over several awaits would mix with
 * other clients' statements. Send multi-statement work as one parameterless query instead, and
 * always schema-qualify table names (no `search_path`).
 */
export function createDb(url: string, opts: DbOptions = {}): Db {
  return new PoolDb(url, opts);
}
