// Targets D and E: Hive Gateway (`@graphql-hive/gateway`) on the same supergraph file as the others,
// started through its own CLI (`hive-gateway supergraph <file>`, how its docs tell Node users to deploy
// it), in this process so the bench measures the gateway's pid. `--planner js` is Hive's default
// (stitching) planner; `--planner router` adds `--hive-router-runtime`, the native Hive Router planner of
// `@graphql-hive/router-runtime`. Config: targets/hive-gateway.config.ts. Prints one JSON ready line:
// {"ready":true,"url":…}.
// Usage: node --import tsx test/load/targets/hive-gateway.ts --supergraph <file> [--port <n>]
//        [--planner js|router] [--dedup on|off]
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stopWithParent } from '../lib/child.ts';

/** The part of `@graphql-hive/gateway` this runner uses (what its bin.js calls). */
interface HiveCli {
  run(ctx: { log: unknown }): Promise<unknown>;
  Logger: new () => unknown;
  enableModuleCachingIfPossible(): void;
  handleNodeWarnings(): void;
}
// Imported by a name TypeScript does not resolve, on purpose: Hive's type declarations change global
// types for the whole program (graphql-yoga's augment graphql's GraphQLErrorExtensions), which broke
// `tsc` on the gateway's errors and on test/e2e. Leave this indirection intact.
const HIVE_PACKAGE: string = '@graphql-hive/gateway';
const hive = (await import(HIVE_PACKAGE)) as HiveCli;

// As in targets/apollo-gateway.ts: `hive-gateway` runs under plain node, where source-mapped stack
// traces are off; tsx turns them on, which would charge Hive for stack mapping it never does.
process.setSourceMapsEnabled(false);

const { values } = parseArgs({
  options: {
    supergraph: { type: 'string' },
    port: { type: 'string', default: '0' },
    planner: { type: 'string', default: 'js' },
    dedup: { type: 'string', default: 'off' },
  },
});
const fail = (message: string): never => {
  console.error(`hive-gateway: ${message}`);
  process.exit(2);
};
const supergraph = values.supergraph ?? fail('--supergraph <file> is required');
if (values.planner !== 'js' && values.planner !== 'router')
  fail(`--planner: expected js or router, got ${values.planner}`);
if (values.dedup !== 'on' && values.dedup !== 'off') fail(`--dedup: expected on or off, got ${values.dedup}`);

/** The CLI prints the port it was given, so port 0 would be unreadable: take a free one first. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const port = Number(values.port) || (await freePort());
process.env.HIVE_BENCH_DEDUP = values.dedup;
// What bin.js of @graphql-hive/gateway does before it runs the CLI (the version is for its log line).
(globalThis as { __VERSION__?: string }).__VERSION__ = (
  createRequire(import.meta.url)(`${HIVE_PACKAGE}/package.json`) as { version: string }
).version;
hive.enableModuleCachingIfPossible();
hive.handleNodeWarnings();
process.argv = [
  process.argv[0]!,
  'hive-gateway',
  'supergraph',
  supergraph,
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--config-path',
  fileURLToPath(new URL('hive-gateway.config.ts', import.meta.url)),
  ...(values.planner === 'router' ? ['--hive-router-runtime'] : []),
];
// The CLI's own logger (info level, to stdout): it logs start-up, not requests.
await hive.run({ log: new hive.Logger() });

const url = `http://127.0.0.1:${port}/graphql`;
// The CLI resolves once it listens; wait until it answers before saying ready.
for (let i = 0; ; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/healthcheck`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  if (i > 100) fail(`no answer on ${url}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
// The CLI handles SIGTERM/SIGINT itself (it closes the server); this covers a bench that died.
stopWithParent(async () => undefined);
process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`);
