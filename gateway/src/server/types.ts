import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '@tollgate/kit/log';
import type { Principal } from '../auth/index.ts';
import type { ReplicaStats } from '../pool/index.ts';
import type { RouteDecision } from '../routing/index.ts';

/** Per-request context every plugin sees. */
export interface GatewayContext {
  [key: string]: unknown;
  /** Who is calling (set before anything else runs). */
  principal: Principal;
  /**
   * The client's address, canonical (the socket's peer, or the client behind `server.trustedProxies`):
   * the budget key of anonymous callers and the key of the failed-authentication throttle.
   */
  clientAddress: string;
  /**
   * The client request's headers (lower-case names, as node:http gives them): what header rules and
   * routing rules read. Absent for operations the gateway runs itself (health probes, subscriptions' setup).
   */
  requestHeaders?: Readonly<IncomingHttpHeaders>;
  /**
   * Progressive-override labels (`@override(label: …)`) that routing rules turned on for this request;
   * the planner also rolls each `percent(N)` label itself. Absent: none.
   */
  overrideLabels?: ReadonlySet<string>;
  /** What `routing.rules` decided for this request: each subgraph's replica subset. Absent: no rules. */
  routing?: RouteDecision;
}

// The one Logger type, shared with the subgraphs.
export type { Logger };

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

export interface SupergraphStatus {
  /** Where it comes from: `supergraph.url`, `supergraph.file`, or `subgraphs` composed by the gateway. */
  source: 'url' | 'file' | 'subgraphs';
  /** The URL polled (without credentials or query string), with `source: url`. */
  url?: string;
  /** When the source was last checked (ms since the epoch); null before the first poll. */
  checkedAt: number | null;
  /** When the serving supergraph was loaded (ms since the epoch). */
  loadedAt: number;
  /** Successful swaps since start. */
  reloads: number;
  /** Reloads refused (composition or config errors, failed fetches); the previous supergraph kept serving. */
  failures: number;
  /** Why the last reload was refused, until one succeeds. */
  lastError: string | null;
}

export interface ReadinessReport {
  ready: boolean;
  /** `degraded`: ready, but some subgraph has no replica up (`server.readiness: gateway`). */
  state: 'ready' | 'degraded' | 'not ready';
  supergraph: SupergraphStatus;
  subgraphs: Record<string, { ready: boolean; replicas: ReplicaStats[] }>;
  /** Replicas that did not answer the last probe, as `subgraph url`. */
  down: string[];
}
