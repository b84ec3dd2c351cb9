import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ZodIssue } from 'zod';
import { expandVariables } from './expand.ts';
import { CONFIG_SECTIONS, type GatewayConfig, GatewayConfigSchema } from './schema.ts';

/** Raised when the configuration is unusable; `issues` has one line per problem, naming the key. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
    this.issues = issues;
  }
}

/**
 * What the command line sets (gateway/src/cli parses it), the top layer: defaults < file < env < flags.
 * Typed values, already checked by the CLI; the keys they set are validated with the rest.
 */
export interface ConfigFlags {
  /** `--config <file>`: the YAML file to read (else GATEWAY_CONFIG, else ./gateway.config.yaml when present). */
  configFile?: string | undefined;
  /** `--supergraph <file>`: sets `supergraph.file` (resolved against the working directory). */
  supergraphFile?: string | undefined;
  /** `--supergraph <http(s) url>`: sets `supergraph.url`. */
  supergraphUrl?: string | undefined;
  /** `--port <n>`: sets `server.port`. */
  port?: number | undefined;
  /** `--host <address>`: sets `server.host`. */
  host?: string | undefined;
}

export interface LoadConfigOptions {
  /** The CLI's flags (`--config`, `--supergraph`, `--port`, `--host`), above every other layer. */
  flags?: ConfigFlags;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Values that sit between the defaults and the file (used by tests and the launcher). */
  base?: Record<string, unknown>;
  /**
   * Told what was ignored but does not stop start-up, one line each (a GATEWAY_ variable naming no
   * section). @default nowhere
   */
  onWarning?: (message: string) => void;
}

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(into: Tree, from: Tree): Tree {
  const out: Tree = { ...into };
  for (const [k, v] of Object.entries(from))
    out[k] = isTree(v) && isTree(out[k]) ? merge(out[k] as Tree, v) : v;
  return out;
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** A config key as an environment variable spells it: persistedQueries → PERSISTED_QUERIES. */
const envWord = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

// GATEWAY_ names that are not configuration: the config file's own path, and the variables Kubernetes
// injects into every pod for a Service named `gateway` (GATEWAY_SERVICE_HOST, GATEWAY_PORT_4000_TCP_ADDR…).
const NOT_CONFIG =
  /^GATEWAY_(CONFIG|SERVICE_(HOST|PORT)(_\w+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The warning for a GATEWAY_ variable that names no section, with the section it was nearest to. */
function unknownSection(name: string, rest: string): string {
  const words = rest.split('_');
  let best = { section: '', spelt: '', cost: Number.POSITIVE_INFINITY, taken: 1 };
  // The section may be misspelt in its words too (RATE_LIMIT for RATELIMIT): try its first 1 to 3 words.
  for (let taken = 1; taken <= Math.min(3, words.length); taken++) {
    const guess = words.slice(0, taken).join('');
    for (const section of CONFIG_SECTIONS) {
      const cost = distance(guess, section.toUpperCase());
      if (cost < best.cost) best = { section, spelt: envWord(section), cost, taken };
    }
  }
  const fixed = ['GATEWAY', best.spelt, ...words.slice(best.taken)].join('_');
  return `${name} is ignored: no config section ${words[0]} (nearest: ${best.section}, as ${fixed})`;
}

// Every spelling of every section, longest first, so a section whose name starts another's never takes
// its variables. PERSISTEDQUERIES, the spelling before words were split, still works.
const SECTION_SPELLINGS = CONFIG_SECTIONS.flatMap((s) =>
  [...new Set([envWord(s), s.toUpperCase()])].map((spelt) => ({ section: s, spelt })),
).sort((a, b) => b.spelt.length - a.spelt.length);

/**
 * GATEWAY_<SECTION>_<KEY> for any key: `_` inside a name starts a camelCase word, `__` goes one level
 * down (GATEWAY_POOL_CIRCUIT_BREAKER__MIN_REQUESTS → pool.circuitBreaker.minRequests), and a variable
 * that is only a section sets it (GATEWAY_DEVELOPMENT). A name with no section is told to `warn`.
 */
function fromGatewayVariables(
  env: Readonly<Record<string, string | undefined>>,
  tree: Tree,
  warn: (message: string) => void,
): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('GATEWAY_') || value === undefined || NOT_CONFIG.test(name)) continue;
    const rest = name.slice('GATEWAY_'.length).toUpperCase();
    const found = SECTION_SPELLINGS.find(({ spelt }) => rest === spelt || rest.startsWith(`${spelt}_`));
    if (!found) {
      warn(unknownSection(name, rest));
      continue;
    }
    const tail = rest.slice(found.spelt.length + 1);
    const levels = tail ? tail.split('__') : [];
    if (levels.some((l) => !/^[A-Z0-9]+(_[A-Z0-9]+)*$/.test(l))) {
      warn(`${name} is ignored: expected GATEWAY_${found.spelt}_KEY, with __ between nested keys`);
      continue;
    }
    setPath(tree, [found.section, ...levels.map(camel)], value);
  }
}

/** The explicit env table: well-known variables, then GATEWAY_<SECTION>_<KEY> for any key. */
function fromEnv(env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): Tree {
  const tree: Tree = {};
  if (env.REDIS_URL) setPath(tree, ['redis', 'url'], env.REDIS_URL);
  // The same variable the subgraphs read, so one secret configures both ends.
  if (env.TOLLGATE_SIGNING_SECRET) setPath(tree, ['auth', 'signing', 'secret'], env.TOLLGATE_SIGNING_SECRET);
  if (env.NODE_ENV === 'development') tree.development = true;
  // The standard OpenTelemetry variables the gateway's tracing set-up uses; the exporter reads
  // OTEL_EXPORTER_OTLP_* itself, and the SDK OTEL_RESOURCE_ATTRIBUTES.
  if (env.OTEL_SDK_DISABLED) setPath(tree, ['telemetry', 'enabled'], env.OTEL_SDK_DISABLED.trim() !== 'true');
  if (env.OTEL_SERVICE_NAME) setPath(tree, ['telemetry', 'serviceName'], env.OTEL_SERVICE_NAME);
  if (env.OTEL_TRACES_SAMPLER) setPath(tree, ['telemetry', 'sampler'], env.OTEL_TRACES_SAMPLER.trim());
  if (env.OTEL_TRACES_SAMPLER_ARG) setPath(tree, ['telemetry', 'samplerRatio'], env.OTEL_TRACES_SAMPLER_ARG);
  if (env.OTEL_BSP_MAX_QUEUE_SIZE) setPath(tree, ['telemetry', 'maxQueueSize'], env.OTEL_BSP_MAX_QUEUE_SIZE);
  if (env.OTEL_BSP_SCHEDULE_DELAY)
    setPath(tree, ['telemetry', 'scheduleDelayMs'], env.OTEL_BSP_SCHEDULE_DELAY);
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() || env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  if (protocol) setPath(tree, ['telemetry', 'protocol'], protocol.toLowerCase());
  if (env.OTEL_PROPAGATORS?.trim())
    setPath(
      tree,
      ['telemetry', 'propagators'],
      env.OTEL_PROPAGATORS.split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    );
  fromGatewayVariables(env, tree, warn);
  return tree;
}

function fromFlags(flags: ConfigFlags): Tree {
  const tree: Tree = {};
  if (flags.supergraphFile !== undefined) setPath(tree, ['supergraph', 'file'], flags.supergraphFile);
  if (flags.supergraphUrl !== undefined) setPath(tree, ['supergraph', 'url'], flags.supergraphUrl);
  if (flags.port !== undefined) setPath(tree, ['server', 'port'], flags.port);
  if (flags.host !== undefined) setPath(tree, ['server', 'host'], flags.host);
  return tree;
}

/**
 * `PORT`, the variable platforms (Heroku, Cloud Run, Render, …) set: above the file, below
 * GATEWAY_SERVER_PORT and `--port`. Checked here so a bad value is named as PORT, not server.port.
 */
function fromPortEnv(env: Readonly<Record<string, string | undefined>>): { tree: Tree; issues: string[] } {
  const raw = env.PORT?.trim();
  if (!raw) return { tree: {}, issues: [] };
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535)
    return { tree: {}, issues: [`PORT: expected a port number (0-65535), got ${JSON.stringify(env.PORT)}`] };
  return { tree: { server: { port } }, issues: [] };
}

/**
 * The config file loadConfig reads: `--config`, else GATEWAY_CONFIG, else ./gateway.config.yaml when
 * present. An empty GATEWAY_CONFIG means no file at all (tests and launchers use it).
 */
function configPath(options: LoadConfigOptions): { path?: string; explicit: boolean } {
  const named = options.flags?.configFile ?? options.env?.GATEWAY_CONFIG;
  if (named === '') return { explicit: false };
  return { path: resolve(options.cwd ?? process.cwd(), named ?? 'gateway.config.yaml'), explicit: !!named };
}

/** The config file `loadConfig(options)` reads, or undefined when it reads none. */
export function configFileOf(options: LoadConfigOptions): string | undefined {
  const { path, explicit } = configPath(options);
  return path && (explicit || existsSync(path)) ? path : undefined;
}

export function formatIssue(issue: ZodIssue): string {
  const key = issue.path.length ? issue.path.join('.') : '(root)';
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key(s) ${issue.keys.join(', ')}`
      : issue.message.toLowerCase();
  return `${key}: ${message}`;
}

/**
 * Loads the configuration: built-in defaults < `base` < YAML file (`--config`, else GATEWAY_CONFIG, else
 * ./gateway.config.yaml when present) < PORT < the other environment variables < CLI flags. Validates once and returns a frozen object, or throws ConfigError.
 * Relative file paths in the config are resolved against the config file's folder.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const port = fromPortEnv(env);
  if (port.issues.length) throw new ConfigError(port.issues);

  let fileTree: Tree = {};
  let fileDir = cwd;
  const { path, explicit } = configPath({ ...options, env, cwd });
  let text: string | undefined;
  try {
    if (path) text = readFileSync(path, 'utf8');
  } catch (error) {
    if (explicit)
      throw new ConfigError([
        `config file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      ]);
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new ConfigError([
        `config file ${path}: not valid YAML (${(error as Error).message.split('\n')[0]})`,
      ]);
    }
    if (parsed != null && !isTree(parsed))
      throw new ConfigError([`config file ${path}: expected a mapping at the top`]);
    const issues: string[] = [];
    fileTree = expandVariables((parsed as Tree | null) ?? {}, env, issues) as Tree;
    if (issues.length) throw new ConfigError(issues.map((i) => `${i} (in ${path})`));
    fileDir = dirname(path ?? cwd);
  }

  // File paths from the file are relative to the file; those from the CLI or env to the working directory.
  const absolutize = (tree: Tree, dir: string): Tree => {
    const out = absolutizeSections(tree, dir);
    // each graph's own sections too (graphs.ts)
    if (Array.isArray(out.graphs))
      out.graphs = out.graphs.map((g: unknown) => (isTree(g) ? absolutizeSections(g, dir) : g));
    return out;
  };
  const absolutizeSections = (tree: Tree, dir: string): Tree => {
    const out = merge({}, tree);
    if (isTree(out.supergraph)) {
      const sg = { ...out.supergraph };
      // `--supergraph <file|url>`: a URL given where a file goes is the URL source, not a relative path.
      if (typeof sg.file === 'string' && /^https?:\/\//i.test(sg.file)) {
        sg.url = sg.file;
        delete sg.file;
      }
      if (typeof sg.file === 'string') sg.file = resolve(dir, sg.file);
      out.supergraph = sg;
    }
    const pq = out.persistedQueries;
    if (isTree(pq) && isTree(pq.trustedDocuments) && typeof pq.trustedDocuments.manifest === 'string') {
      const manifest = resolve(dir, pq.trustedDocuments.manifest);
      out.persistedQueries = { ...pq, trustedDocuments: { ...pq.trustedDocuments, manifest } };
    }
    // server.tls and subgraphs[].tls: certFile, keyFile, caFile
    const tlsFiles = (tls: unknown) => {
      if (!isTree(tls)) return tls;
      const files = { ...tls };
      for (const k of ['certFile', 'keyFile', 'caFile'])
        if (typeof files[k] === 'string') files[k] = resolve(dir, files[k]);
      return files;
    };
    if (isTree(out.server) && out.server.tls !== undefined)
      out.server = { ...out.server, tls: tlsFiles(out.server.tls) };
    if (Array.isArray(out.subgraphs)) {
      out.subgraphs = out.subgraphs.map((s: unknown) => {
        if (!isTree(s)) return s;
        const sg = typeof s.schemaFile === 'string' ? { ...s, schemaFile: resolve(dir, s.schemaFile) } : s;
        return sg.tls === undefined ? sg : { ...sg, tls: tlsFiles(sg.tls) };
      });
    }
    return out;
  };

  let tree: Tree = absolutize(options.base ?? {}, cwd);
  tree = merge(tree, absolutize(fileTree, fileDir));
  tree = merge(tree, port.tree);
  tree = merge(tree, absolutize(fromEnv(env, options.onWarning ?? (() => {})), cwd));
  tree = merge(tree, absolutize(fromFlags(options.flags ?? {}), cwd));

  const result = GatewayConfigSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(result.error.issues.map(formatIssue));
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The process's environment and working directory, with the CLI's flags: the one place outside tests
 * where process.env is read. Warnings (an unknown GATEWAY_ section) go to `onWarning`.
 */
export function loadConfigFromProcess(
  flags: ConfigFlags = {},
  onWarning?: (message: string) => void,
): GatewayConfig {
  return loadConfig({ ...processOptions(flags), onWarning });
}

/** The config file `loadConfigFromProcess(flags)` reads, if any (for `tollgate config validate`). */
export function configFileFromProcess(flags: ConfigFlags = {}): string | undefined {
  return configFileOf(processOptions(flags));
}

const processOptions = (flags: ConfigFlags): LoadConfigOptions => ({
  flags,
  env: process.env,
  cwd: process.cwd(),
});

/**
 * The launcher's pid when this gateway was started by `npm start` (TOLLGATE_PARENT_PID): the gateway
 * stops when that process is gone, so a killed launcher leaves no orphans.
 */
export function launcherPidFromProcess(): number | undefined {
  const pid = Number(process.env.TOLLGATE_PARENT_PID);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
