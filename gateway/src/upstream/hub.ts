import type { FormattedExecutionResult } from 'graphql';
import type { Principal } from '../auth/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import { UpstreamError } from './errors.ts';
import { upstreamKey } from './key.ts';
import { EventQueue } from './queue.ts';
import { Upstream, type UpstreamRequest, type UpstreamSettings, type UpstreamSign } from './upstream.ts';

export interface UpstreamSubscribeOptions {
  /**
   * The caller's principal, signed upstream. Given, the upstream is the caller's own (never shared);
   * undefined, it is shared by every identical request and signed with no principal.
   */
  principal?: Principal | undefined;
  /**
   * Headers of the `headers` rules for this caller, sent (and signed) on the upgrade. An upstream is
   * shared only by identical requests with identical headers. @default none
   */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Events waiting for this subscriber before it is ended with SLOW_CONSUMER. @default 100 */
  maxBufferedEvents?: number | undefined;
}

export interface UpstreamHubStats {
  /** Upstream subscriptions open (or looking for a replica) now. */
  upstreams: number;
  /** Subscribers of them now. */
  subscribers: number;
  /** Times an upstream subscribed again on another replica after losing one. */
  resubscribes: number;
  /** Subscribers ended for falling behind (SLOW_CONSUMER). */
  dropped: number;
  /** Upstreams that found no replica within the bound (their subscribers got SUBGRAPH_UNAVAILABLE). */
  failed: number;
}

export interface UpstreamHub {
  /**
   * The events of `request` on one replica of `subgraph`, until the subgraph completes it (done), it fails
   * for good (throws an UpstreamError), or `return()` (the subscriber leaves; the last one closes it).
   */
  subscribe(
    subgraph: string,
    request: UpstreamRequest,
    options?: UpstreamSubscribeOptions,
  ): AsyncIterableIterator<FormattedExecutionResult>;
  stats(): UpstreamHubStats;
  /** Closes every upstream; every subscriber's events end. */
  close(): Promise<void>;
}

export interface UpstreamHubOptions {
  /** The live pools: read at subscribe time. */
  pools: ReadonlyMap<string, ReplicaPool>;
  /** Adds the signature headers (body `''` for the upgrade). */
  sign?: UpstreamSign | undefined;
  /** @default 2000 */
  resubscribeWithinMs?: number;
  /** @default 5000 */
  keepAliveMs?: number;
  /** @default 2000 */
  connectTimeoutMs?: number;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** The gateway's subscriptions to subgraph replicas: one WebSocket per upstream, shared where it may be. */
export function createUpstreamHub(options: UpstreamHubOptions): UpstreamHub {
  const counted = { resubscribes: 0, dropped: 0, failed: 0 };
  const settings: UpstreamSettings = {
    sign: options.sign,
    resubscribeWithinMs: options.resubscribeWithinMs ?? 2000,
    keepAliveMs: options.keepAliveMs ?? 5000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    log: options.log ?? (() => {}),
    counted,
  };
  const shared = new Map<string, Upstream>();
  const all = new Set<Upstream>();
  let closed = false;

  return {
    subscribe(subgraph, request, subscribeOptions = {}) {
      const max = subscribeOptions.maxBufferedEvents ?? 100;
      const pool = options.pools.get(subgraph);
      if (!pool || closed) {
        const q = new EventQueue<FormattedExecutionResult>(max);
        q.end(
          new UpstreamError(
            'SUBGRAPH_UNAVAILABLE',
            closed ? 'The gateway is shutting down' : `No replica pool for subgraph ${subgraph}`,
          ),
        );
        return q;
      }
      const headers = subscribeOptions.headers ?? {};
      const key = subscribeOptions.principal ? undefined : upstreamKey(subgraph, request, headers);
      let upstream = key === undefined ? undefined : shared.get(key);
      if (!upstream) {
        const created: Upstream = new Upstream(
          subgraph,
          request,
          subscribeOptions.principal,
          pool,
          settings,
          () => {
            all.delete(created);
            if (key !== undefined && shared.get(key) === created) shared.delete(key);
          },
          headers,
        );
        upstream = created;
        all.add(created);
        if (key !== undefined) shared.set(key, created);
      }
      const queue = new EventQueue<FormattedExecutionResult>(max, upstream);
      upstream.join(queue);
      return queue;
    },
    stats() {
      let subscribers = 0;
      for (const u of all) subscribers += u.subscribers;
      return { upstreams: all.size, subscribers, ...counted };
    },
    async close() {
      closed = true;
      for (const u of [...all]) u.close();
    },
  };
}
