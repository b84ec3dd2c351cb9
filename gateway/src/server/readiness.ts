import type { GatewayConfig } from '../config/index.ts';
import type { ReplicaPool } from '../pool/index.ts';
import type { ReadinessReport, SupergraphStatus } from './types.ts';

export interface ReadinessOptions {
  pools: ReadonlyMap<string, ReplicaPool>;
  /** The supergraph watch's status, copied into each report. */
  status: Readonly<SupergraphStatus>;
  health: GatewayConfig['health'];
  readiness: GatewayConfig['server']['readiness'];
}

export interface Readiness {
  /** What GET /health/ready answers. */
  report(): Promise<ReadinessReport>;
  /** One probe of every replica (concurrent calls share the round in flight). */
  probeAll(): Promise<void>;
  /** From now on the gateway is not ready: it is shutting down. */
  close(): void;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const { pools } = options;
  let closing = false;
  let probing: Promise<void> | undefined;
  return {
    probeAll() {
      probing ??= Promise.all([...pools.values()].map((p) => p.probe(options.health.probeTimeoutMs)))
        .then(() => undefined)
        .finally(() => {
          probing = undefined;
        });
      return probing;
    },
    async report() {
      const subgraphs: ReadinessReport['subgraphs'] = {};
      const down: string[] = [];
      for (const [name, pool] of pools) {
        const replicas = pool.stats();
        for (const r of replicas) if (r.up === false) down.push(`${name} ${r.url}`);
        subgraphs[name] = { ready: replicas.some((r) => r.up !== false), replicas };
      }
      const everySubgraph = Object.values(subgraphs).every((s) => s.ready);
      // By default a subgraph that is down everywhere degrades answers but leaves the gateway in rotation:
      // failing every gateway's readiness for it would turn a partial outage into a total one.
      // A supergraph that later fails to reload (a fetch, a composition) keeps serving: only never having
      // had one makes the gateway unready, and lastError says why the source is failing.
      const loaded = options.status.loadedAt > 0;
      const ready = !closing && loaded && (everySubgraph || options.readiness === 'gateway');
      const state = !ready ? 'not ready' : everySubgraph ? 'ready' : 'degraded';
      return { ready, state, supergraph: { ...options.status }, subgraphs, down };
    },
    close() {
      closing = true;
    },
  };
}
