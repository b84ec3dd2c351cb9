import { createHash } from 'node:crypto';

/** Replica labels, and a label selector: a replica matches when it carries every pair of the selector. */
export type Labels = Readonly<Record<string, string>>;

/** One routing rule, as `routing.rules[]` in the config holds it. */
export interface RoutingRule {
  /** Shown on spans and metrics. @default `rules[<index>]` */
  name?: string | undefined;
  /** Matches when the client request has this header (with this exact value when given). */
  header?: { name: string; value?: string | undefined } | undefined;
  /** Matches when the principal's claims hold this claim (equal to this value when given). */
  claim?: { name: string; value?: string | number | boolean | undefined } | undefined;
  /** Matches this share of callers, in percent, sticky per caller. */
  weight?: number | undefined;
  /** Subgraphs the rule's `select` applies to (case-insensitive). @default every subgraph */
  subgraphs?: readonly string[] | undefined;
  /** The replicas of those subgraphs the request's fetches go to. */
  select?: Labels | undefined;
  /** Progressive-override labels turned on for the request. */
  activate?: readonly string[] | undefined;
}

export type RoutingFallback = 'default' | 'fail';

export interface RoutingOptions {
  rules: readonly RoutingRule[];
  /** When a selected subset has no available replica: the default set, or SUBGRAPH_UNAVAILABLE. @default 'default' */
  fallback?: RoutingFallback | undefined;
}

/** What a request looks like to the rules. */
export interface RouteInput {
  /** Lower-case header names, as node:http gives them. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The verified token's claims (none for anonymous callers). */
  claims: Readonly<Record<string, unknown>> | undefined;
  /** What weight rules hash: the principal id, or the client address of anonymous callers. */
  stickyKey: string;
}

/**
 * Where one subgraph's fetches of one request go, as the pool takes it: the replicas `select` matches,
 * or (no `select`) the default set, the replicas none of `reserved` matches.
 */
export interface SubsetRoute {
  /** The rule that selected; undefined for the default set. */
  rule: string | undefined;
  select: Labels | undefined;
  /** The selectors of every rule that applies to this subgraph: they carve the default set. */
  reserved: readonly Labels[];
  fallback: RoutingFallback;
}

/** One request's routing decision. */
export interface RouteDecision {
  /** Custom progressive-override labels on for this request (every matching rule's `activate`). */
  readonly activate: ReadonlySet<string>;
  /**
   * The subset for `subgraph`'s fetches: the first matching rule with a `select` for it, else its
   * default set; undefined when no rule selects for this subgraph at all (the whole pool, as without rules).
   */
  subsetFor(subgraph: string): SubsetRoute | undefined;
}

export interface Router {
  /** Decides one request. Pure: the same input always gives the same decision. */
  decide(input: RouteInput): RouteDecision;
  /** Whether any rule has a `select` or `activate` (false: skip routing entirely). */
  readonly active: boolean;
}

interface CompiledRule {
  name: string;
  matches(input: RouteInput): boolean;
  /** Lower-cased subgraph names; undefined: all. */
  subgraphs: ReadonlySet<string> | undefined;
  select: Labels | undefined;
  activate: readonly string[];
}

/**
 * The caller's bucket in [0, 10000) for one rule: a hash of the rule name and the sticky key, so one
 * caller stays on one side of a weight rule for as long as the rule keeps its name and weight, raising
 * the weight only adds callers (those already in stay in), and two rules split callers independently.
 */
export function stickyBucket(rule: string, key: string): number {
  return createHash('sha256').update(rule).update('\0').update(key).digest().readUInt32BE(0) % 10_000;
}

function headerValues(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  // node:http joins repeated headers with ", " (set-cookie aside, which arrives as an array)
  return (typeof value === 'string' ? [value] : [...value]).flatMap((v) => v.split(',').map((s) => s.trim()));
}

function claimMatches(claim: unknown, value: string | number | boolean | undefined): boolean {
  if (claim === undefined || claim === null) return false;
  if (value === undefined) return true;
  const wanted = String(value);
  // an array claim (`groups`, `roles`) matches when it holds the value
  if (Array.isArray(claim)) return claim.some((c) => String(c) === wanted);
  return String(claim) === wanted;
}

function compileRule(rule: RoutingRule, index: number): CompiledRule {
  const name = rule.name ?? `rules[${index}]`;
  const tests: ((input: RouteInput) => boolean)[] = [];
  if (rule.header) {
    const header = rule.header.name.toLowerCase();
    const value = rule.header.value;
    tests.push((input) => {
      const values = headerValues(input.headers[header]);
      return value === undefined ? values.length > 0 : values.includes(value);
    });
  }
  if (rule.claim) {
    const { name: claim, value } = rule.claim;
    tests.push((input) => claimMatches(input.claims?.[claim], value));
  }
  if (rule.weight !== undefined) {
    const threshold = Math.round(rule.weight * 100); // weight in percent, buckets in 1/100 percent
    tests.push((input) => stickyBucket(name, input.stickyKey) < threshold);
  }
  if (!tests.length) throw new TypeError(`routing rule ${name}: needs a header, claim or weight condition`);
  return {
    name,
    // every condition given must hold (as ALB listener rule conditions)
    matches: (input) => tests.every((t) => t(input)),
    subgraphs: rule.subgraphs ? new Set(rule.subgraphs.map((s) => s.toLowerCase())) : undefined,
    select: rule.select,
    activate: rule.activate ?? [],
  };
}

const NO_LABELS: ReadonlySet<string> = new Set();
const NOTHING: RouteDecision = { activate: NO_LABELS, subsetFor: () => undefined };

/**
 * Compiles `routing.rules`. Per request every rule is evaluated once; for each subgraph the first
 * matching rule (in config order) with a `select` that applies to it picks the subset, and the
 * `activate` labels of every matching rule are on.
 */
export function createRouter(options: RoutingOptions): Router {
  const rules = options.rules.map(compileRule);
  const fallback = options.fallback ?? 'default';
  const selecting = rules.filter((r) => r.select);
  // the selectors that apply to each subgraph, computed once per subgraph name
  const reservedBySubgraph = new Map<string, readonly Labels[]>();
  const reservedFor = (subgraph: string): readonly Labels[] => {
    let reserved = reservedBySubgraph.get(subgraph);
    if (!reserved) {
      reserved = selecting.filter((r) => !r.subgraphs || r.subgraphs.has(subgraph)).map((r) => r.select!);
      reservedBySubgraph.set(subgraph, reserved);
    }
    return reserved;
  };
  return {
    active: rules.some((r) => r.select || r.activate.length),
    decide(input) {
      if (!rules.length) return NOTHING;
      const matched = rules.filter((r) => r.matches(input));
      const activate = matched.some((r) => r.activate.length)
        ? new Set(matched.flatMap((r) => r.activate))
        : NO_LABELS;
      const chosen = matched.filter((r) => r.select);
      return {
        activate,
        subsetFor(name) {
          const subgraph = name.toLowerCase();
          const reserved = reservedFor(subgraph);
          if (!reserved.length) return undefined;
          const rule = chosen.find((r) => !r.subgraphs || r.subgraphs.has(subgraph));
          return { rule: rule?.name, select: rule?.select, reserved, fallback };
        },
      };
    },
  };
}

/**
 * One line per `routing.rules[].subgraphs` entry that names no subgraph of the supergraph: such a rule
 * routes nothing there, most likely a typo. A warning, not an error: a later supergraph may add it.
 */
export function unknownSubgraphs(options: RoutingOptions, subgraphs: Iterable<string>): string[] {
  const known = new Set([...subgraphs].map((s) => s.toLowerCase()));
  return options.rules.flatMap((rule, i) =>
    (rule.subgraphs ?? [])
      .filter((s) => !known.has(s.toLowerCase()))
      .map((s) => `routing.rules.${i}.subgraphs: no subgraph named ${s} in the supergraph`),
  );
}
