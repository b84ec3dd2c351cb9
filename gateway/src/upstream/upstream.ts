import type { FormattedExecutionResult } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Principal } from '../auth/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import { UpstreamError } from './errors.ts';
import { backoffMs, webSocketUrl } from './key.ts';
import type { EventQueue } from './queue.ts';

export interface UpstreamRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** Signs an upgrade; `signed` names the header rules' headers already in `headers`, which it covers too. */
export type UpstreamSign = (
  headers: Record<string, string>,
  body: string,
  principal: Principal | undefined,
  signed?: readonly string[],
) => void;

export interface UpstreamSettings {
  sign: UpstreamSign | undefined;
  resubscribeWithinMs: number;
  keepAliveMs: number;
  connectTimeoutMs: number;
  log: (message: string, fields: Record<string, unknown>) => void;
  /** Counts for the hub's stats. */
  counted: { resubscribes: number; dropped: number; failed: number };
}

type Event = FormattedExecutionResult;

/**
 * One subscription of the gateway to one replica at a time, fanned out to its subscribers' queues. The
 * same event object goes to every subscriber (the executor shares its completion by it). When the
 * replica is lost (socket closed, 1001, missed pong) it subscribes again on another one, trying for up
 * to `resubscribeWithinMs`; then it fails its subscribers with SUBGRAPH_UNAVAILABLE.
 */
export class Upstream {
  readonly #subgraph: string;
  readonly #request: UpstreamRequest;
  readonly #principal: Principal | undefined;
  /** The header rules' headers, sent (and signed) on every upgrade. */
  readonly #headers: Readonly<Record<string, string>>;
  readonly #pool: ReplicaPool;
  readonly #s: UpstreamSettings;
  readonly #onClosed: () => void;
  readonly #subscribers = new Set<EventQueue<Event>>();
  #client: Client | undefined;
  #unsubscribe: (() => void) | undefined;
  #replica: string | undefined;
  /** The attempt's generation: callbacks of an abandoned client are ignored. */
  #generation = 0;
  #lostAt: number | undefined;
  #attempt = 0;
  #exclude = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    subgraph: string,
    request: UpstreamRequest,
    principal: Principal | undefined,
    pool: ReplicaPool,
    settings: UpstreamSettings,
    onClosed: () => void,
    headers: Readonly<Record<string, string>> = {},
  ) {
    this.#headers = headers;
    this.#subgraph = subgraph;
    this.#request = request;
    this.#principal = principal;
    this.#pool = pool;
    this.#s = settings;
    this.#onClosed = onClosed;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** The replica serving it now (undefined while it looks for one). */
  get replica(): string | undefined {
    return this.#replica;
  }

  join(queue: EventQueue<Event>): void {
    this.#subscribers.add(queue);
    if (!this.#client && !this.#timer && !this.#closed) this.#connect();
  }

  leave(queue: EventQueue<Event>): void {
    this.#subscribers.delete(queue);
    if (this.#subscribers.size === 0) this.close();
  }

  /** Ends every subscriber (with `error`, or done) and closes the upstream. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#drop();
    for (const q of this.#subscribers) q.end(error);
    this.#subscribers.clear();
    this.#onClosed();
  }

  #fanOut(event: Event): void {
    for (const q of this.#subscribers) {
      if (!q.push(event)) {
        this.#subscribers.delete(q);
        this.#s.counted.dropped++;
      }
    }
    if (this.#subscribers.size === 0) this.close();
  }

  /** Closes the current client without telling anyone (a new one may follow). */
  #drop(): void {
    this.#generation++;
    const unsubscribe = this.#unsubscribe;
    const client = this.#client;
    this.#unsubscribe = undefined;
    this.#client = undefined;
    this.#replica = undefined;
    try {
      unsubscribe?.();
    } catch {
      // already gone
    }
    void client?.dispose();
  }

  /** The replica was lost: look for another, within the bound. */
  #lost(why: string): void {
    if (this.#closed) return;
    const replica = this.#replica;
    this.#drop();
    const now = Date.now();
    this.#lostAt ??= now;
    if (replica) this.#exclude.add(replica);
    if (now - this.#lostAt > this.#s.resubscribeWithinMs) {
      this.#s.counted.failed++;
      this.#s.log('subscription upstream lost: no replica took it again in time', {
        subgraph: this.#subgraph,
        why,
        withinMs: this.#s.resubscribeWithinMs,
      });
      this.close(
        new UpstreamError(
          'SUBGRAPH_UNAVAILABLE',
          `The subscription's subgraph ${this.#subgraph} has no replica that takes it (tried for ${this.#s.resubscribeWithinMs} ms)`,
        ),
      );
      return;
    }
    const delay = backoffMs(this.#attempt++);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, delay);
  }

  #connect(): void {
    if (this.#closed) return;
    let replica = this.#pool.pickReplica(this.#exclude);
    if (!replica && this.#exclude.size) {
      // every replica was tried once: try them all again (one may be back) until the bound
      this.#exclude.clear();
      replica = this.#pool.pickReplica(this.#exclude);
    }
    if (!replica) {
      if (this.#lostAt === undefined) this.#lostAt = Date.now();
      this.#lost('no replica in rotation');
      return;
    }
    if (this.#lostAt !== undefined) this.#s.counted.resubscribes++;
    const generation = ++this.#generation;
    this.#replica = replica;
    const current = () => generation === this.#generation && !this.#closed;
    const { sign, connectTimeoutMs, keepAliveMs } = this.#s;
    const principal = this.#principal;
    // subgraphs[].tls: the same client certificate and CA as the pool's fetches (wss:// replicas only)
    const tls = replica.startsWith('https:') ? this.#pool.tls : undefined;
    // Signed afresh on every connect: the signature's timestamp is checked against a 30 s skew.
    const added = this.#headers;
    const headers = () => {
      const h: Record<string, string> = { ...added };
      sign?.(h, '', principal, Object.keys(added));
      return h;
    };
    class SignedWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers: headers(), handshakeTimeout: connectTimeoutMs, ...tls });
      }
    }
    let socket: WebSocket | undefined;
    let pongTimer: NodeJS.Timeout | undefined;
    const client = createClient({
      url: webSocketUrl(replica),
      webSocketImpl: SignedWebSocket,
      retryAttempts: 0,
      lazy: true,
      keepAlive: keepAliveMs,
      connectionAckWaitTimeout: connectTimeoutMs,
      on: {
        connected: (s) => {
          socket = s as WebSocket;
          if (!current()) return;
          // taken again: the next loss gets a fresh bound and may try every replica
          this.#lostAt = undefined;
          this.#attempt = 0;
          this.#exclude.clear();
        },
        ping: (received) => {
          if (received) return;
          clearTimeout(pongTimer);
          pongTimer = setTimeout(() => socket?.terminate(), keepAliveMs);
          pongTimer.unref?.();
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: (event) => {
          clearTimeout(pongTimer);
          if (current()) this.#lost(`closed ${(event as { code?: number }).code ?? ''}`);
        },
      },
    });
    this.#client = client;
    this.#unsubscribe = client.subscribe<Record<string, unknown>>(this.#request, {
      next: (event) => {
        if (current()) this.#fanOut(event as Event);
      },
      error: (error) => {
        if (!current()) return;
        if (Array.isArray(error)) {
          // the subgraph refused the subscription itself: no other replica would take it
          const errors = error as Event['errors'] & object;
          this.close(
            new UpstreamError(
              'SUBGRAPH_ERROR',
              `Subgraph ${this.#subgraph} refused the subscription: ${errors.map((e) => e.message).join('; ')}`,
              errors,
            ),
          );
          return;
        }
        this.#lost(error instanceof Error ? error.message : 'connection lost');
      },
      complete: () => {
        // the subgraph ended it (a completion after a loss is the abandoned client's: ignored above)
        if (current()) this.close();
      },
    });
  }
}
