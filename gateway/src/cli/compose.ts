// `tollgate compose`: the config's subgraphs → one supergraph SDL, as `rover supergraph compose` does.
import { writeFileSync } from 'node:fs';
import { createRequestSigner } from '../auth/index.ts';
import { ConfigError, type ConfigFlags, type GatewayConfig, loadConfigFromProcess } from '../config/index.ts';
import { composeSupergraph, fetchSubgraphSdl, replicaUrlOf, SupergraphError } from '../supergraph/index.ts';
import { type CliIo, printError } from './io.ts';

export interface ComposeOptions {
  flags: ConfigFlags;
  /** Where the SDL goes; stdout when absent. */
  output?: string | undefined;
}

/** How long one replica may take to answer `{ _service { sdl } }`. */
const SDL_TIMEOUT_MS = 10_000;

/** Composes and writes the supergraph. Exit codes: 0 written, 1 a subgraph or composition failed, 2 bad config. */
export async function composeCommand(options: ComposeOptions, io: CliIo): Promise<number> {
  let config: GatewayConfig;
  let sign: ((headers: Record<string, string>, body: string) => void) | undefined;
  try {
    config = loadConfigFromProcess(options.flags);
    const secret = config.auth.signing.secret;
    const signer = secret ? createRequestSigner({ secret }) : undefined;
    // Subgraphs that verify signatures refuse an unsigned `_service` query: sign it as the gateway would.
    sign = signer && ((headers, body) => signer(headers, body, undefined));
  } catch (error) {
    // TypeError: a signing secret too short to use (the gateway refuses it the same way at start)
    if (!(error instanceof ConfigError || error instanceof TypeError)) throw error;
    printError(io, error.message);
    return 2;
  }
  if (!config.subgraphs.length) {
    printError(io, 'nothing to compose: the config lists no `subgraphs`');
    io.stderr('  each entry needs a name, replicas and, optionally, a schemaFile (see docs/cli.md)\n');
    return 2;
  }

  const fetched = await Promise.allSettled(
    config.subgraphs.map((s) => fetchSubgraphSdl(s, SDL_TIMEOUT_MS, sign)),
  );
  const failures = fetched.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length) {
    for (const error of failures) printError(io, error instanceof Error ? error.message : String(error));
    const refused = failures.some(
      (e) => e instanceof SupergraphError && e.details.some((d) => / 40[13] /.test(d)),
    );
    if (refused && !sign)
      io.stderr(
        "  a replica refused the unsigned request: set TOLLGATE_SIGNING_SECRET to the subgraphs' secret (under `npm start`: TOLLGATE_SIGNING_SECRET=$(cat .tollgate/signing-secret))\n",
      );
    return 1;
  }

  let sdl: string;
  try {
    sdl = composeSupergraph(
      config.subgraphs.map((s, i) => ({
        name: s.name,
        url: replicaUrlOf(s.replicas[0]!),
        sdl: (fetched[i] as PromiseFulfilledResult<string>).value,
      })),
    );
  } catch (error) {
    if (!(error instanceof SupergraphError)) throw error;
    printError(io, error.message);
    return 1;
  }

  const sources = config.subgraphs.map(
    (s) => `${s.name} (${s.schemaFile ?? s.replicas.map(replicaUrlOf).join(', ')})`,
  );
  const text = sdl.endsWith('\n') ? sdl : `${sdl}\n`;
  if (options.output === undefined) io.stdout(text);
  else writeFileSync(options.output, text);
  io.stderr(
    `tollgate: composed ${config.subgraphs.length} subgraph(s)${options.output === undefined ? '' : ` into ${options.output}`}: ${sources.join(', ')}\n`,
  );
  return 0;
}
