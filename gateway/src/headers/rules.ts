import { claimAt, claimHeaderValue } from './claims.ts';
import { skippedByMatching } from './reserved.ts';

/**
 * Forwards a client header: one by name (`named`, optionally `rename`d, with a `default`), or every one
 * `matching` a pattern. Exactly one of `named` and `matching` (the config schema checks).
 */
export interface PropagateRule {
  readonly named?: string | undefined;
  readonly rename?: string | undefined;
  readonly default?: string | undefined;
  readonly matching?: string | undefined;
}

/** Sets `name` to a fixed `value`, or to a `claim` of the caller's token (its `default`, or left out). */
export interface InsertRule {
  readonly name: string;
  readonly value?: string | undefined;
  readonly claim?: string | undefined;
  readonly default?: string | undefined;
}

/** Takes out headers earlier rules added: `named` or `matching`. */
export interface RemoveRule {
  readonly named?: string | undefined;
  readonly matching?: string | undefined;
}

/** One rule: exactly one of its three members (the config schema checks). */
export interface HeaderRule {
  readonly propagate?: PropagateRule | undefined;
  readonly insert?: InsertRule | undefined;
  readonly remove?: RemoveRule | undefined;
}

/** The `headers` config section: rules for every subgraph, then each subgraph's own. */
export interface HeaderRulesConfig {
  readonly all?: { readonly request?: readonly HeaderRule[] | undefined } | undefined;
  readonly subgraphs?:
    | Readonly<Record<string, { readonly request?: readonly HeaderRule[] | undefined }>>
    | undefined;
}

/** What the rules read about one client request. */
export interface HeaderRuleInput {
  /** The client request's headers, lower-case names (as node:http gives them); undefined: none. */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** The caller's verified claims (JWT or API key metadata); undefined: none. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

type Step =
  | { kind: 'named'; from: string; to: string; fallback: string | undefined }
  | { kind: 'matching'; pattern: RegExp }
  | { kind: 'value'; name: string; value: string }
  | { kind: 'claim'; name: string; claim: string; fallback: string | undefined }
  | { kind: 'remove-named'; name: string }
  | { kind: 'remove-matching'; pattern: RegExp };

/** Rules compiled once (lower-cased names, regular expressions built); what `subgraphHeaders` runs. */
export interface CompiledHeaderRules {
  readonly all: readonly Step[];
  readonly subgraphs: ReadonlyMap<string, readonly Step[]>;
}

// Header names are case-insensitive (RFC 9110 §5.1): so are the patterns that match them.
const pattern = (source: string) => new RegExp(source, 'i');

function compileRule(rule: HeaderRule): Step {
  const { propagate: p, insert: i, remove: r } = rule;
  if (p?.matching !== undefined) return { kind: 'matching', pattern: pattern(p.matching) };
  if (p?.named !== undefined) {
    const from = p.named.toLowerCase();
    return { kind: 'named', from, to: (p.rename ?? from).toLowerCase(), fallback: p.default };
  }
  if (i?.claim !== undefined)
    return { kind: 'claim', name: i.name.toLowerCase(), claim: i.claim, fallback: i.default };
  if (i?.value !== undefined) return { kind: 'value', name: i.name.toLowerCase(), value: i.value };
  if (r?.matching !== undefined) return { kind: 'remove-matching', pattern: pattern(r.matching) };
  if (r?.named !== undefined) return { kind: 'remove-named', name: r.named.toLowerCase() };
  // the config schema refuses a rule without exactly one member: never reached through loadConfig
  throw new TypeError(`not a header rule: ${JSON.stringify(rule)}`);
}

/** Compiles the `headers` section (already validated by the config schema). */
export function compileHeaderRules(config: HeaderRulesConfig): CompiledHeaderRules {
  const subgraphs = new Map<string, readonly Step[]>();
  for (const [name, section] of Object.entries(config.subgraphs ?? {}))
    subgraphs.set(name.toLowerCase(), (section.request ?? []).map(compileRule));
  return { all: (config.all?.request ?? []).map(compileRule), subgraphs };
}

/** The `headers.subgraphs` names that match none of `subgraphs` (any case): most likely typos. */
export function unknownSubgraphNames(config: HeaderRulesConfig, subgraphs: Iterable<string>): string[] {
  const known = new Set([...subgraphs].map((n) => n.toLowerCase()));
  return Object.keys(config.subgraphs ?? {}).filter((n) => !known.has(n.toLowerCase()));
}

/** True when no rule would ever add a header (the fetch path then skips the rules entirely). */
export function hasNoRules(rules: CompiledHeaderRules): boolean {
  return !rules.all.length && [...rules.subgraphs.values()].every((s) => !s.length);
}

function single(value: string | readonly string[] | undefined): string | undefined {
  // node:http joins repeated fields itself, except set-cookie; a list field is one comma-joined line.
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** Names the client's `Connection` header marks as hop-by-hop for its own connection (RFC 9110 §7.6.1). */
function connectionOptions(headers: HeaderRuleInput['headers']): ReadonlySet<string> | undefined {
  const value = single(headers?.connection)?.toLowerCase();
  // what nearly every client sends: names no rule could forward anyway
  if (!value || value === 'keep-alive' || value === 'close') return undefined;
  return new Set(value.split(',').map((s) => s.trim().toLowerCase()));
}

type ClientHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

// One step against the headers built so far. A plain function rather than a closure per call: it runs for
// every rule of every (request, subgraph).
function run(
  step: Step,
  out: Record<string, string>,
  client: ClientHeaders,
  hopByHop: ReadonlySet<string> | undefined,
  claims: HeaderRuleInput['claims'],
): void {
  switch (step.kind) {
    case 'named': {
      const value = hopByHop?.has(step.from) ? undefined : single(client[step.from]);
      if (value !== undefined) out[step.to] = value;
      else if (step.fallback !== undefined) out[step.to] = step.fallback;
      return;
    }
    case 'matching':
      for (const name of Object.keys(client)) {
        if (skippedByMatching(name) || hopByHop?.has(name) || !step.pattern.test(name)) continue;
        const value = single(client[name]);
        if (value !== undefined) out[name] = value;
      }
      return;
    case 'value':
      out[step.name] = step.value;
      return;
    case 'claim': {
      const value = claimHeaderValue(claimAt(claims, step.claim)) ?? step.fallback;
      if (value !== undefined) out[step.name] = value;
      else delete out[step.name];
      return;
    }
    case 'remove-named':
      delete out[step.name];
      return;
    case 'remove-matching':
      for (const name of Object.keys(out)) if (step.pattern.test(name)) delete out[name];
      return;
  }
}

/**
 * The headers the rules add to one fetch to `subgraph`: the `all` rules in order, then the subgraph's.
 * A later rule replaces an earlier one's header of the same name; `remove` takes out what earlier rules
 * added (the gateway's own headers are out of the rules' reach). Lower-case names; pure.
 */
export function subgraphHeaders(
  rules: CompiledHeaderRules,
  subgraph: string,
  input: HeaderRuleInput,
): Record<string, string> {
  const out: Record<string, string> = {};
  const client = input.headers ?? {};
  const hopByHop = connectionOptions(input.headers);
  for (const step of rules.all) run(step, out, client, hopByHop, input.claims);
  const own = rules.subgraphs.get(subgraph.toLowerCase());
  if (own) for (const step of own) run(step, out, client, hopByHop, input.claims);
  return out;
}
