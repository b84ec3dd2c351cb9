/** Who is calling. Every later stage (cost, rate limit, field authorization) works from this alone. */
export type Principal = {
  /** Stable id: the JWT `sub`, the API key record id, or `anonymous`. Rate-limit buckets are keyed on it. */
  readonly id: string;
  readonly kind: 'user' | 'apikey' | 'anonymous';
  readonly scopes: readonly string[];
  /** Rate-limit / pricing plan. */
  readonly plan: string;
  /** The verified JWT claims (or API key metadata); never the raw credential. */
  readonly claims?: Readonly<Record<string, unknown>>;
};

const noScopes: readonly string[] = Object.freeze([]);

/** The principal of a caller without credentials, when anonymous access is enabled. */
export function anonymousPrincipal(plan: string): Principal {
  return Object.freeze({ id: 'anonymous', kind: 'anonymous', scopes: noScopes, plan });
}
