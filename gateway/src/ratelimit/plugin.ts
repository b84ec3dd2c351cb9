import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import type { Principal } from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import type { RequestCost } from '../cost/index.ts';
import { RateLimitedError } from '../errors/index.ts';
import { annotateRequest, traceContextOf, withSpan } from '../telemetry/index.ts';
import type { RatePolicy } from './bucket.ts';
import { rateLimitHeaders } from './headers.ts';
import { type RateDecision, type RateLimitStore, RateLimitStoreError } from './store.ts';

/** What the rate-limit plugin needs from the request context. */
export interface RateLimitContext extends BaseContext {
  principal: Principal;
  /** The client's address, the budget key of anonymous callers. */
  clientAddress: string;
}

/**
 * How the plugin decided one operation: `admitted`, `limited` (429), `unavailable` (503: the store
 * failed and failureMode is closed) or `over_budget` (`measure` mode: charged past the budget, not refused).
 */
export type RateLimitOutcome = 'admitted' | 'limited' | 'unavailable' | 'over_budget';

export interface RateLimitPluginDeps<T extends RateLimitContext> {
  store: RateLimitStore;
  /** Told each decision as it is taken (the gateway counts them on GET /metrics). */
  onDecision?: ((outcome: RateLimitOutcome) => void) | undefined;
  /** The request's cost (shared with the cost plugin). */
  costOf(rc: GraphQLRequestContext<T>): RequestCost;
  /** `measure` charges and reports but never refuses. */
  mode: 'enforce' | 'measure';
  log?: (message: string, fields: Record<string, unknown>) => void;
}

interface Charge {
  key: string;
  planName: string;
  policy: RatePolicy;
  decision: RateDecision;
}

/** The budget a principal draws from: one per user or API key, one per client address for anonymous callers. */
export function budgetKey(principal: Principal, clientAddress: string): string {
  return principal.kind === 'anonymous' ? `anon:${clientAddress}` : `${principal.kind}:${principal.id}`;
}

/** The plan a principal's budget follows: the one it names if configured, else the default plan. */
export function planFor(
  config: GatewayConfig['ratelimit'],
  principal: Principal,
): { name: string; policy: RatePolicy } {
  const name = config.plans[principal.plan] ? principal.plan : config.defaultPlan;
  return { name, policy: config.plans[name]! };
}

/**
 * Rate limiting by cost budget: before execution the operation's estimated cost is taken from the
 * caller's bucket (GCRA, Redis or memory); after execution the difference to the actual cost is refunded.
 * Adds `extensions.cost.throttleStatus` and the IETF RateLimit headers to every response it charged.
 */
export function createRateLimitPlugin<T extends RateLimitContext>(
  config: GatewayConfig['ratelimit'],
  deps: RateLimitPluginDeps<T>,
): ApolloServerPlugin<T> {
  const charges = new WeakMap<object, Charge>();
  // The decision goes on the request's access-log line and span, and to whoever counts decisions.
  const decided = (context: T, outcome: RateLimitOutcome) => {
    annotateRequest(context, { rateLimit: outcome });
    deps.onDecision?.(outcome);
  };
  const planOf = (principal: Principal) => planFor(config, principal);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const { estimated } = deps.costOf(rc);
          const { principal, clientAddress } = rc.contextValue;
          const { name, policy } = planOf(principal);
          const key = budgetKey(principal, clientAddress);
          let decision: RateDecision;
          try {
            // A span only around the store call (a Redis round trip, whose command span nests in it).
            decision = await withSpan(
              'gateway.ratelimit',
              async (span) => {
                const d = await deps.store.take(key, estimated, policy);
                span?.setAttributes({
                  'enduser.id': principal.id,
                  'tollgate.ratelimit.plan': name,
                  'tollgate.ratelimit.cost': estimated,
                  'tollgate.ratelimit.decision': d.allowed ? 'admitted' : 'limited',
                  'tollgate.ratelimit.remaining': Math.max(0, Math.floor(d.remaining)),
                });
                return d;
              },
              undefined,
              traceContextOf(rc.contextValue),
            );
            decided(
              rc.contextValue,
              decision.allowed ? 'admitted' : deps.mode === 'enforce' ? 'limited' : 'over_budget',
            );
          } catch (error) {
            if (error instanceof RateLimitStoreError) {
              decided(rc.contextValue, 'unavailable');
              // failureMode closed: a limiter that cannot decide admits nobody.
              throw new RateLimitedError('The rate limiter is unavailable; try again shortly', {
                status: 503,
                headers: { 'retry-after': '1' },
                extensions: { reason: 'LIMITER_UNAVAILABLE' },
              });
            }
            throw error;
          }
          const charge = { key, planName: name, policy, decision };
          const throttleStatus = {
            maximumAvailable: policy.capacity,
            currentlyAvailable: Math.max(0, Math.floor(decision.remaining)),
            restoreRate: policy.restoreRate,
          };
          if (!decision.allowed && deps.mode === 'enforce') {
            deps.log?.('rate limited', { key, cost: estimated, retryAfterMs: decision.retryAfterMs });
            const never = !Number.isFinite(decision.retryAfterMs);
            throw new RateLimitedError(
              never
                ? `Operation cost ${estimated} exceeds the ${name} plan's whole budget of ${policy.capacity}`
                : `Rate limited: operation cost ${estimated}, ${throttleStatus.currentlyAvailable} of ${policy.capacity} available; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s`,
              {
                headers: rateLimitHeaders(name, policy, decision),
                extensions: { cost: { requestedQueryCost: estimated, throttleStatus } },
              },
            );
          }
          charges.set(rc.contextValue, charge);
        },
        async willSendResponse(rc) {
          const charge = charges.get(rc.contextValue);
          if (!charge) return;
          const { decision, policy } = charge;
          let refunded = 0;
          const body = rc.response.body;
          const data = body.kind === 'single' ? body.singleResult.data : undefined;
          if (decision.allowed && data !== undefined) {
            const cost = deps.costOf(rc);
            const difference = cost.estimated - cost.actual(data);
            if (difference > 0) {
              try {
                await deps.store.refund(charge.key, difference, policy);
                refunded = difference;
              } catch (error) {
                // A lost refund only makes the client wait a little longer; never fail a served response.
                deps.log?.('refund failed', {
                  key: charge.key,
                  error: error instanceof Error ? error.message : String(error),
                });
              }
            }
          }
          const remaining = Math.min(policy.capacity, decision.remaining + refunded);
          for (const [name, value] of Object.entries(
            rateLimitHeaders(charge.planName, policy, { ...decision, remaining }),
          )) {
            rc.response.http.headers.set(name.toLowerCase(), value);
          }
          if (body.kind === 'single') {
            body.singleResult.extensions ??= {};
            const extensions = body.singleResult.extensions;
            extensions.cost = {
              ...(extensions.cost as object | undefined),
              throttleStatus: {
                maximumAvailable: policy.capacity,
                currentlyAvailable: Math.max(0, Math.floor(remaining)),
                restoreRate: policy.restoreRate,
              },
            };
          }
        },
      };
    },
  };
}
