import type { SupergraphSdlHook, SupergraphSdlUpdateFunction } from '@apollo/gateway';
import type { GatewayConfig } from '../config/index.ts';
import { ReplicaPool, type ReplicaTlsOptions } from '../pool/index.ts';
import { gatewaySafeSdl, type ResolvedSupergraph, resolveSupergraph, shownUrl } from '../supergraph/index.ts';
import { subgraphTlsOptions } from '../tls/index.ts';
import type { Logger, SupergraphStatus } from './types.ts';

type Sign = ((headers: Record<string, string>, body: string) => void) | undefined;

/**
 * Brings the pools in line with a (re)resolved supergraph: new subgraphs get a pool (with the TLS of
 * their `subgraphs[].tls`, read when the pool is made), replica lists and their labels follow.
 */
export function syncPools(
  pools: Map<string, ReplicaPool>,
  replicas: ResolvedSupergraph['replicas'],
  poolConfig: GatewayConfig['pool'],
  subgraphs: GatewayConfig['subgraphs'] = [],
): void {
  for (const [name, list] of replicas) {
    const pool = pools.get(name);
    if (!pool) {
      pools.set(name, new ReplicaPool(name, list, { ...poolConfig, tls: tlsOf(subgraphs, name) }));
      continue;
    }
    const urls = list.map((r) => r.url);
    // a replica already there keeps its connections and health, and takes changed labels
    for (const { url, labels } of list) pool.addReplica(url, labels);
    for (const url of pool.replicas) if (!urls.includes(url)) void pool.removeReplica(url);
  }
}

/** `subgraphs[].tls` of the subgraph `name` (case-insensitive), read; a bad file throws a ConfigError. */
function tlsOf(subgraphs: GatewayConfig['subgraphs'], name: string): ReplicaTlsOptions | undefined {
  const subgraph = subgraphs.find((s) => s.name.toLowerCase() === name.toLowerCase());
  return subgraph && subgraphTlsOptions(subgraph.tls, `subgraphs.${subgraph.name}.tls`);
}

export interface SupergraphWatchOptions {
  config: GatewayConfig;
  /** The supergraph resolved at start: what ApolloGateway loads first. */
  initial: ResolvedSupergraph;
  /** Re-reads the configuration on each poll. @default the initial config */
  reloadConfig?: (() => GatewayConfig) | undefined;
  /** Signs the `_service { sdl }` fetches of a re-composition. */
  sign: Sign;
  pools: Map<string, ReplicaPool>;
  logger: Logger;
  /** Told each reload that swapped (true) or was refused (false). */
  onReload(ok: boolean): void;
  /** Handed the configuration a successful round re-read (what follows config without a restart). */
  onConfig?: ((next: GatewayConfig) => void) | undefined;
}

export interface SupergraphWatch {
  /** ApolloGateway's `supergraphSdl` option: the initial SDL, and the `update` handle reloads swap with. */
  readonly hook: SupergraphSdlHook;
  /** The supergraph SDL now serving (as resolved, before gatewaySafeSdl). */
  readonly servingSdl: string;
  readonly status: Readonly<SupergraphStatus>;
  /** One round: re-resolve, sync the pools, swap when the SDL changed. Never throws. */
  reload(): Promise<void>;
  /** Polls every `supergraph.pollIntervalMs` (10 s for a URL, else 2 s) when `supergraph.watch` is on. */
  start(): void;
  stop(): void;
}

/**
 * Supergraph watch: re-resolve the source of truth; swap when it changed, keep serving the old one when
 * it no longer composes (and say why on /health/ready). A swap lets requests in flight finish on the
 * plan they have; new ones get the new supergraph.
 */
export function createSupergraphWatch(options: SupergraphWatchOptions): SupergraphWatch {
  const { config, logger } = options;
  let update: SupergraphSdlUpdateFunction | undefined;
  let servingSdl = options.initial.sdl;
  const { url, file } = config.supergraph;
  const status: SupergraphStatus = {
    source: url ? 'url' : file ? 'file' : 'subgraphs',
    ...(url && { url: shownUrl(url) }),
    checkedAt: null,
    loadedAt: Date.now(),
    reloads: 0,
    failures: 0,
    lastError: null,
  };
  let reloading = false;
  let timer: NodeJS.Timeout | undefined;

  const reload = async () => {
    if (reloading) return;
    reloading = true;
    try {
      const next = options.reloadConfig?.() ?? config;
      const fresh = await resolveSupergraph(next, { sign: options.sign });
      syncPools(options.pools, fresh.replicas, next.pool, next.subgraphs);
      options.onConfig?.(next);
      if (fresh.sdl !== servingSdl) {
        if (!update) throw new Error('the gateway is not ready for updates yet');
        update(gatewaySafeSdl(fresh.sdl)); // throws, without swapping, on an unusable supergraph
        servingSdl = fresh.sdl;
        status.loadedAt = Date.now();
        status.reloads++;
        logger.info('supergraph updated', { subgraphs: [...fresh.replicas.keys()] });
        options.onReload(true);
      }
      // Said once when a failing source works again, as its failure was said once.
      if (status.lastError !== null) logger.info('supergraph source usable again', { source: status.source });
      status.lastError = null;
    } catch (error) {
      status.failures++;
      options.onReload(false);
      const message = error instanceof Error ? error.message : String(error);
      if (status.lastError !== message)
        logger.error('supergraph reload refused; the previous supergraph keeps serving', { error: message });
      status.lastError = message;
    } finally {
      status.checkedAt = Date.now();
      reloading = false;
    }
  };

  return {
    // The function form hands us `update`, with which a reload swaps in a new supergraph.
    hook: async (hookOptions) => {
      update = hookOptions.update;
      return { supergraphSdl: gatewaySafeSdl(options.initial.sdl) };
    },
    get servingSdl() {
      return servingSdl;
    },
    status,
    reload,
    start() {
      if (!config.supergraph.watch) return;
      // A remote source is polled less often than a local file: each poll is a request to someone else.
      const every = config.supergraph.pollIntervalMs ?? (config.supergraph.url ? 10_000 : 2_000);
      timer = setInterval(() => void reload(), every);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
}
