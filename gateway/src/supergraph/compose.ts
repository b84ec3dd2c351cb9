import { readFile } from 'node:fs/promises';
import { composeServices } from '@apollo/composition';
import { type DirectiveNode, Kind, parse, print, visit } from 'graphql';
import { Agent, type Dispatcher, request } from 'undici';
import type { SubgraphConfig } from '../config/index.ts';
import { subgraphTlsOptions } from '../tls/index.ts';

/** Composition failed or a supergraph could not be read; `details` has one line per problem. */
export class SupergraphError extends Error {
  readonly code: 'SUPERGRAPH_COMPOSITION_FAILED' | 'SUPERGRAPH_UNAVAILABLE' | 'SUPERGRAPH_INVALID';
  readonly details: readonly string[];
  constructor(code: SupergraphError['code'], message: string, details: readonly string[] = []) {
    super(details.length ? `${message}\n${details.map((d) => `  - ${d}`).join('\n')}` : message);
    this.code = code;
    this.details = details;
  }
}

export interface SubgraphSdl {
  name: string;
  url: string;
  sdl: string;
}

/** Composes subgraph SDLs into a supergraph SDL with @apollo/composition, or throws naming every error. */
export function composeSupergraph(subgraphs: readonly SubgraphSdl[]): string {
  const services = [];
  const parseErrors: string[] = [];
  for (const s of subgraphs) {
    try {
      services.push({ name: s.name, url: s.url, typeDefs: parse(s.sdl) });
    } catch (error) {
      parseErrors.push(`[${s.name}] ${(error as Error).message}`);
    }
  }
  if (parseErrors.length)
    throw new SupergraphError(
      'SUPERGRAPH_COMPOSITION_FAILED',
      'composition failed: a subgraph SDL does not parse',
      parseErrors,
    );
  const result = composeServices(services);
  if (result.errors) {
    throw new SupergraphError(
      'SUPERGRAPH_COMPOSITION_FAILED',
      'composition failed',
      result.errors.map((e) => `${(e.extensions?.code as string | undefined) ?? 'ERROR'}: ${e.message}`),
    );
  }
  return result.supergraphSdl;
}

/** A `subgraphs[].replicas` entry: a URL, or `{ url, labels }`. */
export type ReplicaEntry =
  | string
  | { readonly url: string; readonly labels?: Readonly<Record<string, string>> };

/** The URL (or `dns://` entry) of a replica entry. */
export function replicaUrlOf(entry: ReplicaEntry): string {
  return typeof entry === 'string' ? entry : entry.url;
}

/**
 * Reads a subgraph's SDL from its schema file, else asks its replicas for `_service { sdl }` in turn
 * (over `subgraphs[].tls` when given: its client certificate and CA).
 */
export async function fetchSubgraphSdl(
  subgraph: {
    name: string;
    replicas: readonly ReplicaEntry[];
    schemaFile?: string | undefined;
    tls?: SubgraphConfig['tls'];
  },
  timeoutMs = 5_000,
  /** Adds headers given the exact body: the gateway's request signer, so signing subgraphs answer. */
  sign?: (headers: Record<string, string>, body: string) => void,
): Promise<string> {
  if (subgraph.schemaFile) {
    try {
      return await readFile(subgraph.schemaFile, 'utf8');
    } catch (error) {
      throw new SupergraphError(
        'SUPERGRAPH_UNAVAILABLE',
        `subgraph ${subgraph.name}: cannot read ${subgraph.schemaFile} (${(error as NodeJS.ErrnoException).code})`,
      );
    }
  }
  const failures: string[] = [];
  const tls = subgraphTlsOptions(subgraph.tls, `subgraphs.${subgraph.name}.tls`);
  const dispatcher = tls && new Agent({ connect: tls });
  try {
    return await askReplicas(subgraph, failures, timeoutMs, sign, dispatcher);
  } finally {
    await dispatcher?.close();
  }
}

async function askReplicas(
  subgraph: { name: string; replicas: readonly ReplicaEntry[] },
  failures: string[],
  timeoutMs: number,
  sign: ((headers: Record<string, string>, body: string) => void) | undefined,
  dispatcher: Dispatcher | undefined,
): Promise<string> {
  for (const url of subgraph.replicas.map(replicaUrlOf)) {
    try {
      const query = JSON.stringify({ query: '{ _service { sdl } }' });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      sign?.(headers, query);
      const res = await request(url, {
        method: 'POST',
        headers,
        body: query,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(dispatcher && { dispatcher }),
      });
      const body = (await res.body.json()) as { data?: { _service?: { sdl?: string } } };
      const sdl = body.data?._service?.sdl;
      if (res.statusCode === 200 && typeof sdl === 'string') return sdl;
      failures.push(`${url}: answered ${res.statusCode} without _service.sdl`);
    } catch (error) {
      failures.push(`${url}: ${(error as Error).message}`);
    }
  }
  throw new SupergraphError(
    'SUPERGRAPH_UNAVAILABLE',
    `subgraph ${subgraph.name}: no replica returned its SDL`,
    failures,
  );
}

export interface SupergraphSubgraph {
  /** The join__Graph enum value (upper case), e.g. PRODUCTS. */
  graph: string;
  /** The subgraph name from `@join__graph(name:)`. */
  name: string;
  url: string;
}

/** Lists the subgraphs named in a supergraph SDL (`enum join__Graph { X @join__graph(name:, url:) }`). */
export function subgraphsOf(supergraphSdl: string): SupergraphSubgraph[] {
  let doc: ReturnType<typeof parse>;
  try {
    doc = parse(supergraphSdl);
  } catch (error) {
    throw new SupergraphError('SUPERGRAPH_INVALID', `supergraph does not parse: ${(error as Error).message}`);
  }
  const out: SupergraphSubgraph[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.ENUM_TYPE_DEFINITION || def.name.value !== 'join__Graph') continue;
    for (const value of def.values ?? []) {
      const dir = value.directives?.find((d) => d.name.value === 'join__graph');
      const arg = (n: string) => {
        const a = dir?.arguments?.find((x) => x.name.value === n)?.value;
        return a?.kind === Kind.STRING ? a.value : undefined;
      };
      out.push({
        graph: value.name.value,
        name: arg('name') ?? value.name.value.toLowerCase(),
        url: arg('url') ?? '',
      });
    }
  }
  if (!out.length) throw new SupergraphError('SUPERGRAPH_INVALID', 'not a supergraph: no join__Graph enum');
  return out;
}

const SECURITY_SPECS = /\/\/specs\.apollo\.dev\/(authenticated|requiresScopes|policy)\//;

function linkUrl(node: DirectiveNode): string {
  const a = node.arguments?.find((x) => x.name.value === 'url')?.value;
  return a?.kind === Kind.STRING ? a.value : '';
}

/**
 * @apollo/gateway refuses a supergraph whose authorization links say `for: SECURITY` (docs/design.md#where-tollgate-plugs-into-apollo-gateway). We drop
 * that argument so the gateway loads it, and enforce the directives ourselves in the auth plugin.
 * Leave this intact: without the auth plugin, removing `for: SECURITY` removes the gateway's fail-closed net.
 */
export function gatewaySafeSdl(supergraphSdl: string): string {
  if (!SECURITY_SPECS.test(supergraphSdl)) return supergraphSdl;
  const doc = visit(parse(supergraphSdl), {
    Directive(node) {
      if (node.name.value !== 'link' || !SECURITY_SPECS.test(linkUrl(node))) return undefined;
      return { ...node, arguments: node.arguments?.filter((a) => a.name.value !== 'for') };
    },
  });
  return print(doc);
}
