import { type Context, propagation } from '@opentelemetry/api';

/**
 * The context with only the baggage entries whose keys are in `allowKeys` (`telemetry.baggage.allowKeys`,
 * exact and case-sensitive as W3C Baggage keys are); with none left, no baggage at all. Applied where a
 * client's trace context is read, so what a client puts in `baggage` (`userId=attacker,role=admin`)
 * never reaches a subgraph, which might take it for the gateway's word. Leave this intact.
 */
export function filterBaggage(ctx: Context, allowKeys: ReadonlySet<string>): Context {
  const baggage = propagation.getBaggage(ctx);
  if (!baggage) return ctx;
  const entries = baggage.getAllEntries();
  const kept = entries.filter(([key]) => allowKeys.has(key));
  if (kept.length === entries.length) return ctx;
  if (kept.length === 0) return propagation.deleteBaggage(ctx);
  return propagation.setBaggage(ctx, propagation.createBaggage(Object.fromEntries(kept)));
}
