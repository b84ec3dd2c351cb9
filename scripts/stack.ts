import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { GatewayConfigSchema } from '@tollgate/gateway/config';
import { loadDevSigningKey } from '@tollgate/gateway/dev-keys';
import { composeSupergraph } from '@tollgate/gateway/supergraph';
import { createDb, listServices, migrate, type SeedSize, seed } from '@tollgate/kit';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  apiKeysFile,
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_TOKEN_TYPE,
  devKeysDir,
  loadSigningSecret,
  ROOT,
} from './dev-auth.ts';

const GATEWAY_BIN = join(ROOT, 'gateway', 'bin', 'tollgate.js');

/**
 * Every process of the stack runs compiled JavaScript with plain `node` (no TypeScript loader), as in
 * production: this brings dist/ up to date first (a no-op in ~0.1 s when it is), for the repo and for
 * service folders elsewhere (a test's scaffold).
 */
function buildFor(serviceDirs: readonly string[] = []): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--quiet', ...serviceDirs], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}
const compiledMain = (service: { dir: string }) => join(service.dir, 'dist', 'main.js');

export interface StackOptions {
  /** Gateway port. @default 4000 */
  port?: number;
  /** Host the gateway binds to. @default '0.0.0.0' */
  host?: string;
  /** A real PostgreSQL; without it an embedded PGlite server is started. */
  databaseUrl?: string;
  /** Where the embedded database keeps its files; 'memory' for none. @default '<repo>/.tollgate/pgdata' */
  dataDir?: string;
  redisUrl?: string;
  /** Replicas per subgraph. @default 2 */
  replicas?: number;
  /** @default 'small' */
  seedSize?: SeedSize;
  /**
   * Folder for the generated gateway config, the signing secret, the dev JWT keys (`dev-keys/`) and the
   * API key records (`api-keys.json`). @default '<repo>/.tollgate'
   */
  stateDir?: string;
  /** Only these services (all under services/ by default). */
  services?: readonly string[];
  /** Where progress lines go. @default nowhere */
  log?: (line: string) => void;
  /** Extra environment for every child. */
  env?: Record<string, string>;
  /** Where the services are. @default '<repo>/services' */
  servicesDir?: string;
  /** How often the services folder is checked for new services. @default 2000 */
  watchIntervalMs?: number;
  /** Called with the names of services added while the stack runs. */
  onServiceAdded?: (names: string[]) => void;
  /** Gateway configuration laid over gateway.config.yaml (tests use it, e.g. for larger budgets). */
  gatewayConfig?: Record<string, unknown>;
  /** How long a replica or the gateway may take to print its ready line. @default 60000 */
  readyTimeoutMs?: number;
  /**
   * Anonymous callers and tokens without a plan claim get the roomy `dev` plan (DEV_PLAN), so the
   * README's queries can be repeated. Only when neither gateway.config.yaml nor `gatewayConfig` sets
   * `ratelimit` (tests that size budgets keep theirs). @default true
   */
  devPlan?: boolean;
  /**
   * CPUs to pin processes to (`taskset -c` lists, Linux; ignored without /usr/bin/taskset): the gateway
   * on some, the database and replicas on others, as separate machines would be. @default unpinned
   */
  cpus?: { gateway?: string; others?: string };
}

/**
 * The dev stack's plan: the README's sample query costs 555 (estimated; less is charged), so this
 * holds 90 of them in a burst and refills 9 a second. Production defaults: `anonymous` and `free`
 * 1000 points, 50/s (gateway/src/config/schema.ts).
 */
export const DEV_PLAN = { capacity: 50_000, restoreRate: 5_000 } as const;

/** The dev plan's part of the gateway config: every default plan plus `dev`, which the dev callers use. */
function devRateLimit(): { ratelimit: Record<string, unknown>; anonymousPlan: string; jwtPlan: string } {
  const defaults = GatewayConfigSchema.parse({}).ratelimit.plans;
  return { ratelimit: { plans: { ...defaults, dev: DEV_PLAN } }, anonymousPlan: 'dev', jwtPlan: 'dev' };
}

export interface ReplicaProcess {
  service: string;
  url: string;
  child: ChildProcess;
}

export interface Stack {
  /** The gateway's GraphQL URL. */
  url: string;
  /** Its admin listener (/metrics, /admin/*, /health/ready with the details). */
  adminUrl: string;
  /** Where the stack keeps its state: `dev-keys/` signs tokens it trusts, `api-keys.json` holds key hashes. */
  stateDir: string;
  databaseUrl: string;
  embeddedDatabase: boolean;
  replicas: readonly ReplicaProcess[];
  gateway: ChildProcess;
  /**
   * Starts one more gateway on this stack's config, on `port` (say, the port of one that was stopped:
   * a restart) or any free port. `stop()` stops it too. Chaos tests use it.
   */
  startGateway(port?: number): Promise<{ url: string; adminUrl: string; child: ChildProcess }>;
  /** Starts a replica again on the port it had, after it exited or was killed; the gateway's pool finds it there. */
  restartReplica(replica: ReplicaProcess): Promise<ReplicaProcess>;
  /** Stops every process this stack started: gateway first, then replicas, then the database. */
  stop(): Promise<void>;
}

const TASKSET = '/usr/bin/taskset';

/** The gateway's line naming its admin listener's origin. */
const ADMIN_LINE = /admin listener .* at (\S+)/;

interface Started {
  child: ChildProcess;
  /** The first stdout line matching `match`. */
  line: string;
  /** stdout up to and with that line. */
  output: string;
}

function startChild(
  name: string,
  args: string[],
  env: Record<string, string | undefined>,
  match: RegExp,
  timeoutMs = 60_000,
  cpus?: string,
): Promise<Started> {
  // TOLLGATE_PARENT_PID lets a child notice that this launcher died without stopping it (even SIGKILL)
  // and stop itself, so the stack never leaves orphans behind. taskset execs node: the pid stays node's.
  const pinned = cpus !== undefined && existsSync(TASKSET);
  const child = spawn(
    pinned ? TASKSET : process.execPath,
    pinned ? ['-c', cpus, process.execPath, ...args] : args,
    {
      cwd: ROOT,
      env: { ...process.env, ...env, TOLLGATE_PARENT_PID: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  return new Promise<Started>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not become ready within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) {
        if (match.test(line)) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          child.off('exit', onExit);
          resolve({ child, line, output: buffer });
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was ready\n${stderr.trim()}`));
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the whole stack: a database (embedded unless `databaseUrl`), migrations and seed of every
 * service, N replica processes per service, and the gateway in front of them.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => {});
  const stateDir = options.stateDir ?? join(ROOT, '.tollgate');
  mkdirSync(stateDir, { recursive: true });
  const started: ChildProcess[] = [];
  const gateways: ChildProcess[] = [];
  let database: ChildProcess | undefined;
  let watcher: NodeJS.Timeout | undefined;
  // Gateways first (nothing new reaches the replicas), then every replica at once (each drains on its
  // own, so the stack stops in the time of the slowest, not the sum), then the database they used.
  const stopAll = async () => {
    clearInterval(watcher);
    await Promise.all(gateways.map((child) => stopChild(child)));
    await Promise.all(started.filter((c) => c !== database).map((child) => stopChild(child)));
    if (database) await stopChild(database);
  };
  try {
    buildFor();
    let databaseUrl = options.databaseUrl;
    const embeddedDatabase = !databaseUrl;
    if (!databaseUrl) {
      const dataDir = options.dataDir ?? join(stateDir, 'pgdata');
      log(`starting embedded PostgreSQL (${dataDir === 'memory' ? 'in memory' : dataDir})`);
      const pg = await startChild(
        'embedded PostgreSQL',
        [join(ROOT, 'dist', 'scripts', 'embedded-postgres.js')],
        { TOLLGATE_PG_DATA_DIR: dataDir === 'memory' ? '' : dataDir, PORT: '0' },
        /"ready":true/,
        undefined,
        options.cpus?.others,
      );
      started.push(pg.child);
      database = pg.child;
      databaseUrl = (JSON.parse(pg.line) as { url: string }).url;
    }

    const wanted = () =>
      listServices(options.servicesDir).filter((s) => !options.services || options.services.includes(s.name));
    const services = wanted();
    const dbUrl = databaseUrl;
    const prepare = async (list: typeof services) => {
      const db = createDb(dbUrl, { max: 1 });
      try {
        for (const service of list) {
          await migrate(db, service);
          await seed(db, service, options.seedSize ?? 'small');
        }
      } finally {
        await db.close();
      }
    };
    buildFor(services.map((s) => s.dir));
    await prepare(services);
    log(`migrated and seeded ${services.map((s) => s.name).join(', ')}`);

    const replicaCount = options.replicas ?? 2;
    // One secret per state folder, kept across restarts: replicas serve only what the gateway signs with it.
    // It reaches the gateway through the same variable (its config loader's env table), never the YAML file.
    const signingSecret = await loadSigningSecret(stateDir);
    const devKey = await loadDevSigningKey(devKeysDir(stateDir));
    // The children's stdout and stderr are pipes, so their logs would be JSON; a person at the launcher's
    // terminal gets readable lines (and colours, unless NO_COLOR) where they did not choose otherwise.
    const inherited: Record<string, string | undefined> = process.env;
    const forTerminal = Object.fromEntries(
      Object.entries({ GATEWAY_LOG_FORMAT: 'pretty', LOG_FORMAT: 'pretty', FORCE_COLOR: '1' }).filter(
        ([name]) =>
          process.stdout.isTTY &&
          !(name in inherited) &&
          !(name === 'FORCE_COLOR' && 'NO_COLOR' in inherited),
      ),
    );
    const childEnv = {
      ...forTerminal,
      DATABASE_URL: databaseUrl,
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...options.env,
      TOLLGATE_SIGNING_SECRET: signingSecret,
    };
    const startReplicas = (list: typeof services) =>
      Promise.all(
        list.flatMap((service) =>
          Array.from({ length: replicaCount }, async (_, i) => {
            const r = await startChild(
              `${service.name} replica ${i + 1}`,
              [compiledMain(service)],
              { ...childEnv, PORT: '0' },
              /"ready":true/,
              options.readyTimeoutMs,
              options.cpus?.others,
            );
            started.push(r.child);
            return {
              service: service.name,
              url: (JSON.parse(r.line) as { url: string }).url,
              child: r.child,
            };
          }),
        ),
      );
    const replicas: ReplicaProcess[] = await startReplicas(services);
    log(`started ${replicas.length} replicas`);

    // The user's gateway.config.yaml, if any, with the stack's subgraphs and port laid over it.
    const userConfigPath = join(ROOT, 'gateway.config.yaml');
    const userConfig = existsSync(userConfigPath)
      ? ((parseYaml(readFileSync(userConfigPath, 'utf8')) as Record<string, unknown> | null) ?? {})
      : {};
    // The stack's config file lives in stateDir: file paths in the user's file are relative to the repo.
    const userServer = userConfig.server as Record<string, unknown> | undefined;
    const userTls = userServer?.tls as Record<string, unknown> | undefined;
    if (userServer && userTls)
      userServer.tls = Object.fromEntries(
        Object.entries(userTls).map(([k, v]) => [
          k,
          k.endsWith('File') && typeof v === 'string' ? resolvePath(ROOT, v) : v,
        ]),
      );
    const server = {
      // The dev stack: GraphiQL needs introspection, which the gateway turns off outside development.
      introspection: true,
      ...userServer,
      // e.g. server.tls from a test: the stack's own port and host still win
      ...(options.gatewayConfig?.server as object | undefined),
      port: options.port ?? 4000,
      host: options.host ?? '0.0.0.0',
      // a stack on any free port (tests, chaos) takes any free admin port too, even when a gateway of it
      // is then started on a fixed port (a restart): several stacks may run at once
      ...(options.port === 0 && userServer?.adminPort === undefined ? { adminPort: 0 } : {}),
    };
    const subgraphsNow = () =>
      services.map((s) => ({
        name: s.name,
        schemaFile: join(s.dir, 'schema.graphql'),
        replicas: replicas.filter((r) => r.service === s.name).map((r) => r.url),
      }));
    // Dev auth: tokens from `npm run token` (the dev key), keys from `npm run apikey:new`, and anonymous
    // callers on the `dev` plan (or the production `anonymous` one when budgets are configured). The
    // user's file and the caller's overrides win, key by key.
    const budgetsSet = 'ratelimit' in userConfig || options.gatewayConfig?.ratelimit !== undefined;
    const dev = (options.devPlan ?? true) && !budgetsSet ? devRateLimit() : undefined;
    const auth = {
      anonymous: { enabled: true, plan: dev?.anonymousPlan ?? 'anonymous' },
      jwt: {
        jwksFile: devKey.jwksFile,
        issuer: DEV_ISSUER,
        audience: DEV_AUDIENCE,
        typ: DEV_TOKEN_TYPE,
        ...(dev ? { defaultPlan: dev.jwtPlan } : {}),
      },
      apiKeys: { file: apiKeysFile(stateDir) },
      ...(userConfig.auth as object | undefined),
      ...(options.gatewayConfig?.auth as object | undefined),
    };
    const configFile = join(stateDir, 'stack.gateway.yaml');
    const supergraphFile = join(stateDir, 'supergraph.graphql');
    // Written whole to a temporary file and renamed, so the gateway's watcher never reads half a file.
    const writeAtomic = (file: string, text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    const writeConfig = () => {
      const subgraphs = subgraphsNow();
      const config = {
        ...userConfig,
        ...(dev ? { ratelimit: dev.ratelimit } : {}),
        ...options.gatewayConfig,
        server,
        subgraphs,
        auth,
      };
      writeAtomic(
        configFile,
        `# Written by npm start; edit gateway.config.yaml instead.\n${stringifyYaml(config)}`,
      );
      // The supergraph this stack serves (each subgraph's URL is its first replica), for the standalone
      // gateway: `npx tollgate --supergraph .tollgate/supergraph.graphql`. Rewritten at every start.
      const sdl = composeSupergraph(
        subgraphs.map((s) => ({
          name: s.name,
          url: s.replicas[0]!,
          sdl: readFileSync(s.schemaFile, 'utf8'),
        })),
      );
      writeAtomic(supergraphFile, sdl.endsWith('\n') ? sdl : `${sdl}\n`);
    };
    writeConfig();

    const startGateway = async (port?: number) => {
      const gateway = await startChild(
        'gateway',
        [GATEWAY_BIN, '--config', configFile, ...(port === undefined ? [] : ['--port', String(port)])],
        { ...childEnv, ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}) },
        // printed right after the ready line
        ADMIN_LINE,
        options.readyTimeoutMs,
        options.cpus?.gateway,
      );
      started.push(gateway.child);
      gateways.push(gateway.child);
      gateway.child.stdout!.pipe(process.stdout);
      gateway.child.stderr!.pipe(process.stderr);
      return {
        child: gateway.child,
        url: /gateway ready at (\S+)/.exec(gateway.output)![1]!,
        adminUrl: ADMIN_LINE.exec(gateway.line)![1]!,
      };
    };
    const gateway = await startGateway();
    const url = gateway.url;

    // A service scaffolded while the stack runs (npm run service:new) is migrated, seeded, started and
    // added to the gateway's config; the gateway's supergraph watch composes it in without a restart.
    let adding = false;
    watcher = setInterval(async () => {
      if (adding) return;
      const fresh = wanted().filter((s) => !services.some((known) => known.name === s.name));
      if (!fresh.length) return;
      adding = true;
      try {
        buildFor(fresh.map((s) => s.dir));
        await prepare(fresh);
        replicas.push(...(await startReplicas(fresh)));
        services.push(...fresh);
        writeConfig();
        log(`added ${fresh.map((s) => s.name).join(', ')}`);
        options.onServiceAdded?.(fresh.map((s) => s.name));
      } catch (error) {
        console.error(
          `tollgate: could not add ${fresh.map((s) => s.name).join(', ')}: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        adding = false;
      }
    }, options.watchIntervalMs ?? 2_000);
    watcher.unref();

    return {
      url,
      adminUrl: gateway.adminUrl,
      stateDir,
      databaseUrl,
      embeddedDatabase,
      replicas,
      gateway: gateway.child,
      startGateway: (port) => startGateway(port ?? 0),
      async restartReplica(replica) {
        const service = services.find((s) => s.name === replica.service);
        if (!service) throw new Error(`no service named ${replica.service} in this stack`);
        const r = await startChild(
          `${service.name} replica (restarted)`,
          [compiledMain(service)],
          { ...childEnv, PORT: new URL(replica.url).port },
          /"ready":true/,
          options.readyTimeoutMs,
          options.cpus?.others,
        );
        started.push(r.child);
        const restarted = { service: service.name, url: replica.url, child: r.child };
        const at = replicas.indexOf(replica);
        if (at >= 0) replicas[at] = restarted;
        return restarted;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
