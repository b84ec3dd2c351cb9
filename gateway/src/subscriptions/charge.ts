import type { DocumentNode, FormattedExecutionResult } from 'graphql';
import type { Principal } from '../auth/index.ts';
import type { GatewayConfig } from '../config/index.ts';
import { actualCost, type CostModel, type EstimateOptions } from '../cost/index.ts';
import { ErrorCode } from '../errors/index.ts';
import { budgetKey, planFor, type RateLimitStore } from '../ratelimit/index.ts';
import type { StreamEnd } from './govern.ts';
import type { SubscriptionRequest } from './types.ts';

export interface EventChargeDeps {
  model(): CostModel;
  cost: GatewayConfig['cost'];
  ratelimit: GatewayConfig['ratelimit'];
  store: RateLimitStore;
  /** `measure` charges but never ends a subscription. */
  mode: 'enforce' | 'measure';
  log?: (message: string, fields: Record<string, unknown>) => void;
}

// Identical subscriptions share an event's data object (the executor completes it once): its cost is
// measured once per document and options, not once per subscriber.
const measured = new WeakMap<object, Map<string, number>>();

function costOf(
  model: CostModel,
  document: DocumentNode,
  optionsKey: string,
  data: unknown,
  measure: () => number,
): number {
  if (typeof data !== 'object' || data === null) return measure();
  let costs = measured.get(data);
  if (!costs) {
    costs = new Map();
    measured.set(data, costs);
  }
  // the model and the document are part of the key by identity
  const key = `${optionsKey}\0${identity(model)}\0${identity(document)}`;
  let cost = costs.get(key);
  if (cost === undefined) {
    cost = measure();
    costs.set(key, cost);
  }
  return cost;
}

const ids = new WeakMap<object, number>();
let nextId = 0;
function identity(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

/** Charges one event of a subscription; an end means the budget cannot pay for it. */
export interface EventCharge {
  charge(event: FormattedExecutionResult): Promise<StreamEnd | undefined>;
}

/**
 * The per-event charge of one subscription: each event's actual cost (the estimate's rules on the data it
 * carries) is taken from the caller's budget, the one its start was charged to. An event the budget
 * cannot pay for is not delivered: the subscription ends with RATE_LIMITED and the time to retry. When
 * the limiter cannot decide (Redis down), the event is delivered: the subscription was admitted.
 */
export function createEventCharge(
  deps: EventChargeDeps,
  caller: { principal: Principal; clientAddress: string },
  document: DocumentNode,
  request: SubscriptionRequest,
): EventCharge {
  return new EventCharger(deps, caller, document, request);
}

// A class, not a closure: each open subscription holds one.
class EventCharger implements EventCharge {
  readonly #deps: EventChargeDeps;
  readonly #document: DocumentNode;
  readonly #key: string;
  readonly #plan: ReturnType<typeof planFor>;
  readonly #options: EstimateOptions;
  readonly #optionsKey: string;

  constructor(
    deps: EventChargeDeps,
    caller: { principal: Principal; clientAddress: string },
    document: DocumentNode,
    request: SubscriptionRequest,
  ) {
    this.#deps = deps;
    this.#document = document;
    this.#key = budgetKey(caller.principal, caller.clientAddress);
    this.#plan = planFor(deps.ratelimit, caller.principal);
    this.#options = {
      operationName: request.operationName,
      variables: request.variables,
      defaultListSize: deps.cost.defaultListSize,
      directiveFreeListSize: deps.cost.directiveFreeListSize,
    };
    this.#optionsKey = JSON.stringify([request.operationName ?? null, request.variables ?? null]);
  }

  async charge(event: FormattedExecutionResult): Promise<StreamEnd | undefined> {
    const deps = this.#deps;
    let cost: number;
    try {
      const model = deps.model();
      cost = costOf(model, this.#document, this.#optionsKey, event.data, () =>
        actualCost(model, this.#document, event.data, this.#options),
      );
    } catch {
      return undefined; // an event we cannot measure is not charged (its start paid the estimate)
    }
    if (cost <= 0) return undefined;
    const { name, policy } = this.#plan;
    try {
      const decision = await deps.store.take(this.#key, cost, policy);
      if (decision.allowed || deps.mode === 'measure') return undefined;
      const retryAfterSeconds = Number.isFinite(decision.retryAfterMs)
        ? Math.max(1, Math.ceil(decision.retryAfterMs / 1000))
        : undefined;
      const available = Math.max(0, Math.floor(decision.remaining));
      return {
        reason: 'budget',
        error: {
          message: `Rate limited: an event of this subscription costs ${cost}, ${available} of the ${name} plan's ${policy.capacity} available; the subscription ends${retryAfterSeconds === undefined ? '' : `, subscribe again in ${retryAfterSeconds} s`}`,
          extensions: {
            code: ErrorCode.RATE_LIMITED,
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
            cost: {
              actualQueryCost: cost,
              throttleStatus: {
                maximumAvailable: policy.capacity,
                currentlyAvailable: available,
                restoreRate: policy.restoreRate,
              },
            },
          },
        },
      };
    } catch (error) {
      deps.log?.('subscription event charge failed; delivered uncharged', {
        key: this.#key,
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }
}
