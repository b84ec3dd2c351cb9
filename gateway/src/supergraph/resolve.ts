import { readFile } from 'node:fs/promises';
import type { GatewayConfig } from '../config/index.ts';
import { composeSupergraph, fetchSubgraphSdl, SupergraphError, subgraphsOf } from './compose.ts';

export interface ResolvedSupergraph {
  /** The supergraph SDL as composed or read (before gatewaySafeSdl). */
  sdl: string;
  /** Replica URLs per subgraph name: config entries, else the supergraph's routing URL. */
  replicas: ReadonlyMap<string, readonly string[]>;
}

export interface ResolveSupergraphOptions {
  /** Signs the `_service { sdl }` fetches (subgraphs that verify signatures refuse unsigned ones). */
  sign?: (headers: Record<string, string>, body: string) => void;
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
  let sdl: string;
  if (config.supergraph.file) {
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
        url: s.replicas[0]!,
        sdl: await fetchSubgraphSdl(s, undefined, options.sign),
      })),
    );
    sdl = composeOnce(sdls);
  }
  const replicas = new Map<string, readonly string[]>();
  const configured = new Map(config.subgraphs.map((s) => [s.name.toLowerCase(), s.replicas]));
  for (const sg of subgraphsOf(sdl)) {
    const list = configured.get(sg.name.toLowerCase()) ?? (sg.url ? [sg.url] : []);
    if (!list.length)
      throw new SupergraphError(
        'SUPERGRAPH_INVALID',
        `subgraph ${sg.name} has no routing URL and no replicas in the config`,
      );
    replicas.set(sg.name, list);
  }
  return { sdl, replicas };
}
