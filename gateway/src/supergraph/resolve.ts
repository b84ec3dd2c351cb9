import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Supergraph } from '@apollo/federation-internals';
import type { Logger } from '@tollgate/kit/log';
import type { GatewayConfig } from '../config/index.ts';
import {
  composeSupergraph,
  fetchSubgraphSdl,
  gatewaySafeSdl,
  type ReplicaEntry,
  replicaUrlOf,
  SupergraphError,
  subgraphsOf,
} from './compose.ts';
import { fetchSupergraphUrl, shownUrl } from './url.ts';

export interface ResolvedSupergraph {
  /** The supergraph SDL as composed or read (before gatewaySafeSdl). */
  sdl: string;
  /**
   * Replicas per subgraph name, each a URL (or `dns://` entry) with its labels: config entries, else
   * the supergraph's routing URL (no labels).
   */
  replicas: ReadonlyMap<string, readonly ResolvedReplica[]>;
}

export interface ResolvedReplica {
  url: string;
  labels: Readonly<Record<string, string>>;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const resolvedReplica = (entry: ReplicaEntry): ResolvedReplica =>
  typeof entry === 'string'
    ? { url: entry, labels: NO_LABELS }
    : { url: entry.url, labels: entry.labels ?? NO_LABELS };

export interface ResolveSupergraphOptions {
  /** Signs the `_service { sdl }` fetches (subgraphs that verify signatures refuse unsigned ones). */
  sign?: (headers: Record<string, string>, body: string) => void;
  /**
   * At start-up with `supergraph.url`: instead of failing, retry with backoff until a usable supergraph
   * arrives, logging each new reason once. A file or composed subgraphs still fail at once (a typo, not
   * an outage).
   */
  untilAvailable?: { logger: Logger; baseMs?: number; maxMs?: number };
}

// Composition costs tens of milliseconds of CPU, and a watching gateway re-resolves every few seconds:
// compose again only when a subgraph's SDL or routing URL changed (errors are remembered the same way).
let lastComposition: { key: string; sdl?: string; error?: unknown } | undefined;
function composeOnce(sdls: { name: string; url: string; sdl: string }[]): string {
  const key = JSON.stringify(sdls);
  if (lastComposition?.key !== key) {
    try {
      lastComposition = { key, sdl: composeSupergraph(sdls) };
    } catch (error) {
      lastComposition = { key, error };
    }
  }
  if (lastComposition.error !== undefined) throw lastComposition.error;
  return lastComposition.sdl!;
}

/** Produces the supergraph and the replica list of every subgraph it names. */
export async function resolveSupergraph(
  config: Pick<GatewayConfig, 'supergraph' | 'subgraphs'>,
  options: ResolveSupergraphOptions = {},
): Promise<ResolvedSupergraph> {
  if (config.supergraph.url && options.untilAvailable)
    return await waitForUrl(config, options.untilAvailable);
  let sdl: string;
  if (config.supergraph.url) {
    sdl = await fetchSupergraphUrl({ ...config.supergraph, url: config.supergraph.url });
  } else if (config.supergraph.file) {
    try {
      sdl = await readFile(config.supergraph.file, 'utf8');
    } catch (error) {
      throw new SupergraphError(
        'SUPERGRAPH_UNAVAILABLE',
        `cannot read supergraph ${config.supergraph.file} (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  } else {
    if (!config.subgraphs.length) {
      throw new SupergraphError(
        'SUPERGRAPH_UNAVAILABLE',
        'no supergraph: give --supergraph <file> or list subgraphs in the config',
      );
    }
    const sdls = await Promise.all(
      config.subgraphs.map(async (s) => ({
        name: s.name,
        url: replicaUrlOf(s.replicas[0]!),
        sdl: await fetchSubgraphSdl(s, undefined, options.sign),
      })),
    );
    sdl = composeOnce(sdls);
  }
  const replicas = new Map<string, readonly ResolvedReplica[]>();
  const configured = new Map(
    config.subgraphs.map((s) => [s.name.toLowerCase(), s.replicas.map(resolvedReplica)]),
  );
  for (const sg of subgraphsOf(sdl)) {
    const list = configured.get(sg.name.toLowerCase()) ?? (sg.url ? [resolvedReplica(sg.url)] : []);
    if (!list.length)
      throw new SupergraphError(
        'SUPERGRAPH_INVALID',
        `subgraph ${sg.name} has no routing URL and no replicas in the config`,
      );
    replicas.set(sg.name, list);
  }
  return { sdl, replicas };
}

/**
 * The first supergraph from a URL: fetch, check it loads as the gateway will load it, and on any failure
 * wait (1 s doubling to 30 s, ±20 %) and try again. The gateway does not listen meanwhile, so its
 * readiness probe fails until a supergraph is there.
 */
async function waitForUrl(
  config: Pick<GatewayConfig, 'supergraph' | 'subgraphs'>,
  retry: NonNullable<ResolveSupergraphOptions['untilAvailable']>,
): Promise<ResolvedSupergraph> {
  const url = shownUrl(config.supergraph.url!);
  let lastReason: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const resolved = await resolveSupergraph(config);
      try {
        Supergraph.build(gatewaySafeSdl(resolved.sdl));
      } catch (error) {
        throw new SupergraphError('SUPERGRAPH_INVALID', `supergraph ${url}: ${(error as Error).message}`);
      }
      if (lastReason) retry.logger.info('supergraph loaded', { url, attempts: attempt });
      return resolved;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const waitMs = Math.round(
        Math.min(retry.maxMs ?? 30_000, (retry.baseMs ?? 1_000) * 2 ** (attempt - 1)) *
          (0.8 + Math.random() * 0.4),
      );
      if (reason !== lastReason)
        retry.logger.error('no supergraph yet: not serving until one loads; retrying', {
          url,
          error: reason,
          attempt,
          retryInMs: waitMs,
        });
      lastReason = reason;
      await sleep(waitMs);
    }
  }
}
