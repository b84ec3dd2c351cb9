import {
  type CompiledHeaderRules,
  compileHeaderRules,
  type HeaderRulesConfig,
  hasNoRules,
  subgraphHeaders,
} from './rules.ts';

/** What the rules read from a request's context (structurally the gateway's GatewayContext). */
export type HeaderRulesContext =
  | {
      readonly requestHeaders?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
      readonly principal?: { readonly claims?: Readonly<Record<string, unknown>> | undefined } | undefined;
    }
  | undefined;

/**
 * The headers to add to one fetch to `subgraph` on behalf of `context` (undefined: a fetch on nobody's
 * behalf, such as a health check, which gets the static inserts and defaults only). The returned object
 * is shared by every fetch of the request to that subgraph: copy it, never change it.
 */
export type HeaderRulesApplier = (
  subgraph: string,
  context: HeaderRulesContext,
) => Readonly<Record<string, string>>;

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The `headers` section as the fetch path applies it, or undefined when it has no rules (the fetch path
 * then costs nothing). A request makes several fetches per subgraph: each subgraph's headers are worked
 * out once per request context.
 */
export function createHeaderRules(config: HeaderRulesConfig | undefined): HeaderRulesApplier | undefined {
  if (!config) return undefined;
  const rules: CompiledHeaderRules = compileHeaderRules(config);
  if (hasNoRules(rules)) return undefined;
  const perRequest = new WeakMap<object, Map<string, Readonly<Record<string, string>>>>();
  const build = (subgraph: string, context: HeaderRulesContext) => {
    const out = subgraphHeaders(rules, subgraph, {
      headers: context?.requestHeaders,
      claims: context?.principal?.claims,
    });
    return Object.keys(out).length ? Object.freeze(out) : EMPTY;
  };
  return (subgraph, context) => {
    if (!context) return build(subgraph, context);
    let cached = perRequest.get(context);
    if (!cached) {
      cached = new Map();
      perRequest.set(context, cached);
    }
    let headers = cached.get(subgraph);
    if (!headers) {
      headers = build(subgraph, context);
      cached.set(subgraph, headers);
    }
    return headers;
  };
}
