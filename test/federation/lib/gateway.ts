// Starts a feature's subgraphs once, composes their supergraph and runs one in-process gateway per planner.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph, createGateway, type Gateway, loadConfig } from '@tollgate/gateway';
import { DEAD_URL, type RunningSubgraph, startSubgraph } from './subgraph.ts';
import type { Feature } from './types.ts';

export const PLANNERS = ['hive', 'apollo'] as const;
export type PlannerKind = (typeof PLANNERS)[number];

export interface FeatureStack {
  /** The gateway URL per planner. */
  urls: Record<PlannerKind, string>;
  /** The composed supergraph SDL both gateways serve. */
  supergraph: string;
  stop(): Promise<void>;
}

export async function startFeature(feature: Feature): Promise<FeatureStack> {
  const running = new Map<string, RunningSubgraph>();
  const gateways: Gateway[] = [];
  const stop = async () => {
    await Promise.all(gateways.map((g) => g.close(100)));
    await Promise.all([...running.values()].map((s) => s.stop()));
  };
  try {
    await Promise.all(
      feature.subgraphs.filter((s) => !s.down).map(async (s) => running.set(s.name, await startSubgraph(s))),
    );
    const urls = feature.subgraphs.map((s) => ({ name: s.name, url: running.get(s.name)?.url ?? DEAD_URL }));
    const supergraph = composeSupergraph(feature.subgraphs.map((s, i) => ({ ...s, url: urls[i]!.url })));
    const dir = mkdtempSync(join(tmpdir(), `tollgate-fed-${feature.name}-`));
    const file = join(dir, 'supergraph.graphql');
    writeFileSync(file, supergraph);
    const start = async (planner: PlannerKind) => {
      const config = loadConfig({
        cwd: dir,
        env: {},
        base: {
          server: { port: 0, host: '127.0.0.1' },
          supergraph: { file, watch: false, planner },
          subgraphs: urls.map(({ name, url }) => ({ name, replicas: [url] })),
          auth: { anonymous: { enabled: true } },
          // the default cost limit stays on: no corpus query may be refused by it
          ratelimit: { enabled: false },
        },
      });
      // FEDERATION_DEBUG=1 shows the gateway's log (a masked error's cause is logged there)
      const logger = process.env.FEDERATION_DEBUG
        ? { info() {}, warn: console.warn, error: (m: string, f?: object) => console.error(planner, m, f) }
        : undefined;
      const gateway = await createGateway({ config, ...(logger ? { logger } : {}) });
      gateways.push(gateway);
      return gateway.listen();
    };
    const [hive, apollo] = await Promise.all(PLANNERS.map(start));
    return { urls: { hive: hive!, apollo: apollo! }, supergraph, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface GraphQLResponse {
  data?: unknown;
  errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** A plain JSON POST (no multipart accept): @defer must come back as one whole result. */
export async function send(url: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GraphQLResponse;
  try {
    body = JSON.parse(text) as GraphQLResponse;
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body };
}
