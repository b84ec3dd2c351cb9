import type { RatePolicy } from './bucket.ts';
import { fullRefillMs } from './bucket.ts';
import type { RateDecision } from './store.ts';

/**
 * Response headers for one decision, in the Structured-Field syntax of draft-ietf-httpapi-ratelimit-headers
 * -10/-11 (the obsolete `RateLimit-Limit/-Remaining/-Reset` trio of drafts ≤ -06 is not sent):
 *
 * - `RateLimit-Policy: "<name>";q=<capacity>;w=<seconds to refill fully>;tollgate-qu="cost-points"`
 * - `RateLimit: "<name>";r=<whole points left>;t=<seconds>`
 * - `Retry-After: <seconds>` (ceil, at least 1) on a denial that waiting can fix.
 *
 * Unit: the draft's `qu` only allows registered units (`requests`, `content-bytes`, `concurrent-requests`)
 * and omitting it means "requests", but our quota is GraphQL cost points. There is no registered unit for
 * that, so we omit `qu` and state the unit in the vendor-prefixed parameter `tollgate-qu`, as the draft
 * recommends for service-specific parameters (§3.1); clients that do not know it treat it as a comment.
 *
 * `t`: when allowed, the seconds until the bucket is full again. When denied it equals `Retry-After`,
 * because the draft (§6) says Retry-After SHOULD NOT point earlier than the end of the effective window,
 * and sending the full-refill time there would make clients wait far longer than needed.
 * A cost above capacity can never be admitted, so that denial carries no `Retry-After` at all.
 */
export function rateLimitHeaders(
  policyName: string,
  policy: RatePolicy,
  decision: Pick<RateDecision, 'allowed' | 'remaining' | 'retryAfterMs' | 'resetAfterMs'>,
): Record<string, string> {
  const { name, policyHeader } = policyParts(policyName, policy);
  const remaining = Math.max(0, Math.floor(decision.remaining));
  const headers: Record<string, string> = { 'RateLimit-Policy': policyHeader };
  if (!decision.allowed && Number.isFinite(decision.retryAfterMs)) {
    const retryAfter = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    headers.RateLimit = `${name};r=${remaining};t=${retryAfter}`;
    headers['Retry-After'] = String(retryAfter);
  } else {
    headers.RateLimit = `${name};r=${remaining};t=${Math.max(0, Math.ceil(decision.resetAfterMs / 1000))}`;
  }
  return headers;
}

// What a plan's headers say of the plan itself, once per plan (a config reload brings new policy objects).
const parts = new WeakMap<RatePolicy, { policyName: string; name: string; policyHeader: string }>();

function policyParts(policyName: string, policy: RatePolicy): { name: string; policyHeader: string } {
  const known = parts.get(policy);
  if (known?.policyName === policyName) return known;
  const name = sfString(policyName);
  const quota = Math.floor(policy.capacity);
  const window = Math.max(1, Math.ceil(fullRefillMs(policy) / 1000));
  const built = {
    policyName,
    name,
    policyHeader: `${name};q=${quota};w=${window};tollgate-qu="cost-points"`,
  };
  parts.set(policy, built);
  return built;
}

// RFC 9651 §3.3.3: a String is printable ASCII in double quotes, with `"` and `\` escaped.
function sfString(value: string): string {
  if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) {
    throw new RangeError(`ratelimit policy name must be printable ASCII, got ${JSON.stringify(value)}`);
  }
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}
