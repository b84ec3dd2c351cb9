import { readFileSync } from 'node:fs';
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

export interface LoadConfigOptions {
  /** CLI arguments after the program name (`--config`, `--supergraph`, `--port`). */
  argv?: readonly string[];
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

function fromArgv(argv: readonly string[]): { tree: Tree; configFile?: string; issues: string[] } {
  const tree: Tree = {};
  const issues: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--config':
        configFile = value();
        break;
      case '--supergraph':
        setPath(tree, ['supergraph', 'file'], value());
        break;
      case '--port':
        setPath(tree, ['server', 'port'], value());
        break;
      case '--host':
        setPath(tree, ['server', 'host'], value());
        break;
      default:
        issues.push(`${flag}: unknown option (expected --supergraph, --config, --port or --host)`);
    }
  }
  return { tree, configFile, issues };
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
 * Loads the configuration: built-in defaults < `base` < YAML file (`--config`, else ./gateway.config.yaml
 * when present) < environment < CLI flags. Validates once and returns a frozen object, or throws ConfigError.
 * Relative file paths in the config are resolved against the config file's folder.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const cli = fromArgv(options.argv ?? []);
  if (cli.issues.length) throw new ConfigError(cli.issues);

  let fileTree: Tree = {};
  let fileDir = cwd;
  const explicit = cli.configFile ?? env.GATEWAY_CONFIG;
  const path = resolve(cwd, explicit ?? 'gateway.config.yaml');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
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
    fileDir = dirname(path);
  }

  // File paths from the file are relative to the file; those from the CLI or env to the working directory.
  const absolutize = (tree: Tree, dir: string): Tree => {
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
    if (Array.isArray(out.subgraphs)) {
      out.subgraphs = out.subgraphs.map((s: unknown) =>
        isTree(s) && typeof s.schemaFile === 'string' ? { ...s, schemaFile: resolve(dir, s.schemaFile) } : s,
      );
    }
    return out;
  };

  let tree: Tree = absolutize(options.base ?? {}, cwd);
  tree = merge(tree, absolutize(fileTree, fileDir));
  tree = merge(tree, absolutize(fromEnv(env, options.onWarning ?? (() => {})), cwd));
  tree = merge(tree, absolutize(cli.tree, cwd));

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

/** The process's own argv and environment: the one place outside tests where process.env is read. */
export function loadConfigFromProcess(onWarning?: (message: string) => void): GatewayConfig {
  return loadConfig({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), onWarning });
}

/**
 * The launcher's pid when this gateway was started by `npm start` (TOLLGATE_PARENT_PID): the gateway
 * stops when that process is gone, so a killed launcher leaves no orphans.
 */
export function launcherPidFromProcess(): number | undefined {
  const pid = Number(process.env.TOLLGATE_PARENT_PID);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
