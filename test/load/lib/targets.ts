// The bench's targets and how each is started: Tollgate from a YAML config in configs/ (through its
// real CLI), plain Apollo Gateway through targets/apollo-gateway.ts (issue 10), and Hive Gateway with
// either planner through targets/hive-gateway.ts (issue 20).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@tollgate/gateway';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Child } from './processes.ts';

export type TargetId =
  | 'tollgate'
  | 'tollgate-off'
  | 'tollgate-2w'
  | 'apollo-gateway'
  | 'hive-gateway'
  | 'hive-router';
/** A target as measured: Hive's targets can run with their in-flight dedup on, as separate rows. */
export type VariantId = TargetId | `${TargetId} (dedup)`;

export interface TargetSpec {
  id: TargetId;
  label: string;
  kind: 'tollgate' | 'apollo' | 'hive';
  /** Relative to test/load. */
  configFile?: string;
  /** Hive's planner: its default JS (stitching) planner, or the native Hive Router planner. */
  planner?: 'js' | 'router';
  /**
   * `server.workers` of a Tollgate target: that many worker processes under a node:cluster primary,
   * on every core (not pinned to the gateway's CPU), measured as the whole process tree. Opt-in
   * (`--targets …,tollgate-2w`): not in the default set.
   */
  workers?: number;
}

export const TARGETS: readonly TargetSpec[] = [
  {
    id: 'tollgate',
    label: 'Tollgate, production config',
    kind: 'tollgate',
    configFile: 'configs/production.yaml',
  },
  {
    id: 'tollgate-off',
    label: 'Tollgate, every feature off',
    kind: 'tollgate',
    configFile: 'configs/features-off.yaml',
  },
  {
    id: 'tollgate-2w',
    label: 'Tollgate, production config, server.workers: 2 (every core, the load generator beside it)',
    kind: 'tollgate',
    configFile: 'configs/production.yaml',
    workers: 2,
  },
  { id: 'apollo-gateway', label: 'Apollo Gateway + Apollo Server standalone, defaults', kind: 'apollo' },
  {
    id: 'hive-gateway',
    label: 'Hive Gateway CLI, default planner, defaults except subgraph dedup',
    kind: 'hive',
    planner: 'js',
  },
  {
    id: 'hive-router',
    label:
      'Hive Gateway CLI with the Hive Router runtime (--hive-router-runtime), defaults except subgraph dedup',
    kind: 'hive',
    planner: 'router',
  },
];

/** The reference every `vs AG` ratio is taken against. */
export const REFERENCE: TargetId = 'apollo-gateway';

/** Targets that are Tollgate itself; every other target is a peer. */
export const isTollgate = (id: VariantId): boolean =>
  id === 'tollgate' || id === 'tollgate-off' || id === 'tollgate-2w';

/** The targets `--targets` defaults to: every one but the opt-in workers target. */
export const DEFAULT_TARGETS: readonly TargetId[] = TARGETS.filter((t) => t.workers === undefined).map(
  (t) => t.id,
);

/**
 * Which rows may be a query's best peer: every target that is not Tollgate, measured as Tollgate is,
 * without in-flight dedup (Tollgate has none; identical-query load flatters it).
 */
export const isPeer = (id: VariantId): boolean => !isTollgate(id) && !id.endsWith(' (dedup)');

/** Whether a target can deduplicate in-flight subgraph fetches (so `--dedup` gives it a row of its own). */
export const hasDedup = (spec: TargetSpec): boolean => spec.kind === 'hive';

export interface PreparedTarget {
  spec: TargetSpec;
  /** The row this target's figures go to: the spec's id, with ` (dedup)` when its dedup is on. */
  id: VariantId;
  /** In-flight dedup of subgraph fetches on (only targets that have it). */
  dedup: boolean;
  /** Arguments after `node`. */
  args: string[];
  env: Record<string, string>;
  /** Headers of every request to this target. */
  headers: Record<string, string>;
  /** A stdout line that means the target listens; its first capture group or `url` field is the URL. */
  ready: RegExp;
  config?: {
    source: string;
    /** The file the gateway was started with. */
    generated: string;
    /** Keys of the source the gateway does not know yet (dropped), as dotted paths. */
    skipped: string[];
    token?: 'flag' | 'env' | 'minted';
  };
}

/** A target the bench started: how it was prepared, its process and the URL it listens on. */
export interface RunningTarget {
  prepared: PreparedTarget;
  child: Child;
  url: string;
}

export interface PrepareContext {
  /** Repository root. */
  root: string;
  /** Scratch folder of this run (generated configs, keys). */
  workDir: string;
  supergraphFile: string;
  otlpUrl: string;
  /** From --token or TOLLGATE_BENCH_TOKEN. */
  token?: { value: string; source: 'flag' | 'env' };
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

const PLACEHOLDER = /\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g;

/** Replaces ${NAME} and ${NAME:-default} in every string of the tree; an unset name without default throws. */
function substitute<T>(value: T, vars: Readonly<Record<string, string | undefined>>, where: string): T {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_, name: string, fallback: string | undefined) => {
      const v = vars[name] ?? fallback;
      if (v === undefined) throw new Error(`${where}: \${${name}} is not set`);
      return v;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars, where)) as T;
  if (isTree(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars, where)])) as T;
  return value;
}

function deletePath(tree: Tree, path: readonly string[], key: string): boolean {
  let node: unknown = tree;
  for (const p of path) node = isTree(node) ? node[p] : Array.isArray(node) ? node[Number(p)] : undefined;
  if (!isTree(node) || !(key in node)) return false;
  delete node[key];
  return true;
}

interface DevTokenSigner {
  jwksFile: string;
  sign(
    claims: { sub: string; scopes: string[]; plan?: string },
    jwt: { issuer: string; audience: string | string[]; typ?: string },
  ): Promise<string>;
}

// The gateway's own dev-key helpers (the ones `npm run token` uses), loaded only when a token is minted.
async function devTokenSigner(workDir: string): Promise<DevTokenSigner> {
  const { loadDevSigningKey, signDevToken } = await import('../../../gateway/src/auth/dev-keys.ts');
  const key = await loadDevSigningKey(join(workDir, 'keys'));
  return {
    jwksFile: key.jwksFile,
    sign: (claims, jwt) =>
      signDevToken(
        { ...claims, ttlSec: 24 * 3600 },
        { issuer: jwt.issuer, audience: jwt.audience, key, ...(jwt.typ ? { typ: jwt.typ } : {}) },
      ),
  };
}

/**
 * Turns configs/<target>.yaml into the file the gateway starts with: `bench:` taken out, placeholders
 * filled, host/port/supergraph set, and keys the gateway does not know yet dropped (and reported),
 * found by asking the gateway's own loadConfig until it accepts the file or fails for another reason.
 */
async function prepareTollgate(spec: TargetSpec, ctx: PrepareContext): Promise<PreparedTarget> {
  const source = join(ctx.root, 'test', 'load', spec.configFile!);
  const raw = parseYaml(readFileSync(source, 'utf8')) as unknown;
  if (raw != null && !isTree(raw)) throw new Error(`${source}: expected a mapping at the top`);
  const { bench: benchRaw, ...gatewayRaw } = (raw as Tree | null) ?? {};
  const bench = isTree(benchRaw) ? benchRaw : {};

  let signer: DevTokenSigner | undefined;
  const jwksOverride = process.env.TOLLGATE_BENCH_JWKS_FILE;
  if (!jwksOverride && /\$\{BENCH_JWKS_FILE[:}]/.test(JSON.stringify(raw)))
    signer = await devTokenSigner(ctx.workDir);
  const vars = {
    ...process.env,
    BENCH_OTLP_URL: ctx.otlpUrl,
    BENCH_JWKS_FILE: jwksOverride ?? signer?.jwksFile,
  };
  const tree = substitute(gatewayRaw, vars, source);
  const benchEnv = substitute(isTree(bench.env) ? bench.env : {}, vars, `${source} bench.env`);

  const env: Record<string, string> = runtimeEnv();
  for (const [k, v] of Object.entries(benchEnv)) env[k] = String(v);

  // Same supergraph for every target; Tollgate listens where the bench says.
  delete tree.subgraphs;
  tree.supergraph = { file: ctx.supergraphFile };
  tree.server = {
    ...(isTree(tree.server) ? tree.server : {}),
    host: '127.0.0.1',
    port: 0,
    ...(spec.workers ? { workers: spec.workers } : {}),
  };

  // Read before unknown keys are dropped: the token must match this even while the gateway ignores it.
  const jwtSource = isTree(tree.auth) && isTree(tree.auth.jwt) ? structuredClone(tree.auth.jwt) : undefined;

  const generated = join(ctx.workDir, `${spec.id}.gateway.yaml`);
  const skipped: string[] = [];
  for (;;) {
    writeFileSync(
      generated,
      `# Generated by test/load/bench.ts from ${spec.configFile}.\n${stringifyYaml(tree)}`,
    );
    try {
      loadConfig({ flags: { configFile: generated }, env: { ...process.env, ...env }, cwd: ctx.root });
      break;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const other: string[] = [];
      let dropped = false;
      for (const issue of error.issues) {
        const m = /^(.+): unknown key\(s\) (.+)$/.exec(issue);
        if (!m) {
          other.push(issue);
          continue;
        }
        const path = m[1] === '(root)' ? [] : m[1]!.split('.');
        for (const key of m[2]!.split(', ')) {
          if (deletePath(tree, path, key)) {
            skipped.push([...path, key].join('.'));
            dropped = true;
          }
        }
      }
      if (other.length || !dropped)
        throw new Error(
          `${source} is not a valid gateway config:\n  ${(other.length ? other : error.issues).join('\n  ')}`,
        );
    }
  }

  const headers: Record<string, string> = { ...BASE_HEADERS };
  let token: 'flag' | 'env' | 'minted' | undefined;
  if (isTree(bench.token)) {
    let value = ctx.token?.value;
    token = ctx.token?.source;
    if (!value) {
      const jwt = jwtSource;
      if (
        !signer ||
        !jwt ||
        typeof jwt.issuer !== 'string' ||
        (typeof jwt.audience !== 'string' && !Array.isArray(jwt.audience))
      ) {
        throw new Error(
          `${spec.id} sends a token: pass --token <jwt> or TOLLGATE_BENCH_TOKEN (or configure auth.jwt with jwksFile: \${BENCH_JWKS_FILE})`,
        );
      }
      const t = bench.token;
      value = await signer.sign(
        {
          sub: typeof t.sub === 'string' ? t.sub : 'bench',
          scopes: Array.isArray(t.scopes) ? t.scopes.map(String) : [],
          ...(typeof t.plan === 'string' ? { plan: t.plan } : {}),
        },
        {
          issuer: jwt.issuer,
          audience: jwt.audience as string | string[],
          ...(typeof jwt.typ === 'string' ? { typ: jwt.typ } : {}),
        },
      );
      token = 'minted';
    }
    headers.authorization = `Bearer ${value}`;
  }

  return {
    spec,
    id: spec.id,
    dedup: false,
    args: [...profilerArgs(), join(ctx.root, 'gateway', 'bin', 'tollgate.js'), '--config', generated],
    env,
    headers,
    ready: /gateway ready at (\S+)/,
    config: { source: spec.configFile!, generated, skipped, ...(token ? { token } : {}) },
  };
}

/**
 * NODE_OPTIONS of every target, from TOLLGATE_BENCH_NODE_OPTIONS: unset or empty runs every target on
 * Node's defaults (the default: no gateway gets a runtime tuning the others lack); `image` gives every
 * target the gateway image's flags (gateway/Dockerfile: a 64 MB young generation), to measure Tollgate
 * as its image runs it with the peers on the same settings; any other value is passed as it is.
 */
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=64';
const requested = process.env.TOLLGATE_BENCH_NODE_OPTIONS ?? '';
export const BENCH_NODE_OPTIONS = requested === 'image' ? IMAGE_NODE_OPTIONS : requested;

/** The environment every target starts with. */
function runtimeEnv(): Record<string, string> {
  return BENCH_NODE_OPTIONS
    ? { NODE_ENV: 'production', NODE_OPTIONS: BENCH_NODE_OPTIONS }
    : { NODE_ENV: 'production' };
}

/**
 * Extra node flags for the gateway targets, from TOLLGATE_BENCH_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`: node refuses --cpu-prof in NODE_OPTIONS.
 */
function profilerArgs(): string[] {
  return (process.env.TOLLGATE_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

function prepareApollo(spec: TargetSpec, ctx: PrepareContext): PreparedTarget {
  return {
    spec,
    id: spec.id,
    dedup: false,
    args: [
      ...profilerArgs(),
      '--conditions=source',
      '--import',
      'tsx',
      join(ctx.root, 'test', 'load', 'targets', 'apollo-gateway.ts'),
      '--supergraph',
      ctx.supergraphFile,
    ],
    env: runtimeEnv(),
    headers: { ...BASE_HEADERS },
    ready: /"ready":true/,
  };
}

function prepareHive(spec: TargetSpec, ctx: PrepareContext, dedup: boolean): PreparedTarget {
  return {
    spec,
    id: dedup ? `${spec.id} (dedup)` : spec.id,
    dedup,
    args: [
      ...profilerArgs(),
      '--conditions=source',
      '--import',
      'tsx',
      join(ctx.root, 'test', 'load', 'targets', 'hive-gateway.ts'),
      '--supergraph',
      ctx.supergraphFile,
      '--planner',
      spec.planner ?? 'js',
      '--dedup',
      dedup ? 'on' : 'off',
    ],
    env: runtimeEnv(),
    headers: { ...BASE_HEADERS },
    ready: /"ready":true/,
  };
}

/** `dedup` applies to targets that have in-flight dedup (`hasDedup`); the others ignore it. */
export function prepareTarget(spec: TargetSpec, ctx: PrepareContext, dedup = false): Promise<PreparedTarget> {
  if (spec.kind === 'tollgate') return prepareTollgate(spec, ctx);
  if (spec.kind === 'hive') return Promise.resolve(prepareHive(spec, ctx, dedup));
  return Promise.resolve(prepareApollo(spec, ctx));
}

/** The URL a target printed in its ready line. */
export function urlFromReadyLine(target: PreparedTarget, line: string): string {
  const m = target.ready.exec(line);
  if (m?.[1]) return m[1];
  return (JSON.parse(line) as { url: string }).url;
}
