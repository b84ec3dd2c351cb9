import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { FormattedExecutionResult } from 'graphql';
import type { SubscriptionEventResult, SubscriptionEvents } from '../incremental/index.ts';
import { planNodes, type SubscriptionNode } from '../planner/index.ts';
import { withEventSpan } from '../telemetry/index.ts';
import { rootCursor } from './cursor.ts';
import {
  completeFetches,
  executeNode,
  fetchVariables,
  mergeRootFetch,
  type PlanRun,
} from './plan-executor.ts';
import { shapeResponse } from './shape.ts';
import type { CompiledShape } from './shape-compile.ts';

/** What the primary fetch of a subscription asks its subgraph for. */
export interface UpstreamRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/**
 * Opens the event stream of a subscription's primary fetch on one replica of `subgraph` (the upstream
 * hub). `context` is the request's: the wiring decides from it on whose behalf the upstream is opened.
 */
export type UpstreamSubscribe = (
  subgraph: string,
  request: UpstreamRequest,
  context: object,
) => AsyncIterableIterator<FormattedExecutionResult>;

export interface SubscriptionRun {
  node: SubscriptionNode;
  shape: CompiledShape;
  requestContext: GatewayGraphQLRequestContext;
  /** The request's variables with the operation's defaults under them. */
  variables: Record<string, unknown>;
  service(name: string): GraphQLDataSource | undefined;
  subscribe: UpstreamSubscribe;
  /**
   * Subscriptions with the same key complete an event they share once: same operation (as authorized
   * for its caller), same variables, and no subgraph in the plan whose fields depend on the caller.
   * undefined: this subscription completes every event on its own.
   */
  shareKey: string | undefined;
}

// An event object the upstream hub hands to every subscriber of a shared upstream → its completion per
// share key, so 10,000 identical subscriptions fetch an event's entities once, not 10,000 times.
const completions = new WeakMap<object, Map<string, Promise<SubscriptionEventResult>>>();

/**
 * The key under which identical subscriptions share their events' completion (see SubscriptionRun), or
 * undefined when the plan reaches a subgraph whose fields depend on the caller.
 */
export function completionShareKey(
  node: SubscriptionNode,
  perCaller: ReadonlySet<string>,
  parts: { queryHash: string; operationName: string | undefined; variables: unknown },
): string | undefined {
  if (perCaller.size) {
    for (const n of planNodes(node))
      if ((n.kind === 'Fetch' || n.kind === 'BatchFetch') && perCaller.has(n.serviceName)) return undefined;
  }
  return `${parts.queryHash}\0${parts.operationName ?? ''}\0${JSON.stringify(parts.variables ?? null)}`;
}

/**
 * The events of one subscription: each event of the primary fetch's stream is merged at the root like a
 * root fetch's answer, the rest of the plan (entity fetches to other subgraphs) runs on it through the
 * pools with the caller's context, and the result is shaped under the GraphQL spec's error rules, as a
 * query's would be. The upstream is opened when the first event is asked for, and closed by `return()`.
 */
export function subscriptionEvents(options: SubscriptionRun): SubscriptionEvents {
  return new EventStream(options);
}

// A class, not closures: 10,000 open subscriptions each hold one.
class EventStream implements SubscriptionEvents {
  readonly #o: SubscriptionRun;
  /**
   * What an event's fetches and shaping read of the request (its variables, its context), not the whole
   * request context Apollo Server built: a subscription lives long, and 10,000 of them would each keep
   * its parsed request, headers and metrics alive.
   */
  readonly #rc: GatewayGraphQLRequestContext;
  #upstream: AsyncIterableIterator<FormattedExecutionResult> | undefined;
  #closed = false;

  constructor(options: SubscriptionRun) {
    this.#o = options;
    this.#rc = {
      request: { variables: options.requestContext.request.variables },
      context: options.requestContext.context,
    } as GatewayGraphQLRequestContext;
  }

  #newRun(): PlanRun {
    return {
      service: this.#o.service,
      requestContext: this.#rc,
      variables: this.#o.variables,
      errors: [],
      deferred: [],
      incomplete: [],
    };
  }

  #open(): AsyncIterableIterator<FormattedExecutionResult> {
    if (!this.#upstream) {
      const { primary } = this.#o.node;
      const variables = fetchVariables(this.#newRun(), primary.variableUsages);
      this.#upstream = this.#o.subscribe(
        primary.serviceName,
        {
          query: primary.operation,
          variables: { ...variables },
          ...(primary.operationName ? { operationName: primary.operationName } : {}),
        },
        this.#rc.context,
      );
    }
    return this.#upstream;
  }

  async #complete(event: FormattedExecutionResult): Promise<SubscriptionEventResult> {
    const { node, shape } = this.#o;
    const run = this.#newRun();
    const data: Record<string, unknown> = Object.create(null);
    const cursor = rootCursor(data);
    mergeRootFetch(
      run,
      node.primary,
      { data: event.data as Record<string, unknown> | null | undefined, errors: event.errors ?? [] },
      cursor.objects,
      [],
    );
    if (node.rest && event.data) await executeNode(run, node.rest, cursor);
    await completeFetches(run);
    const shaped = shapeResponse(shape, data, this.#rc.request.variables, { priorErrors: run.errors });
    const errors = [...run.errors, ...shaped.errors];
    return errors.length ? { data: shaped.data, errors } : { data: shaped.data };
  }

  #run(event: FormattedExecutionResult): Promise<SubscriptionEventResult> {
    return withEventSpan(this.#rc.context, 'gateway.subscription.event', () => this.#complete(event), {
      'graphql.operation.type': 'subscription',
    });
  }

  async next(): Promise<IteratorResult<SubscriptionEventResult>> {
    if (this.#closed) return { done: true, value: undefined };
    const step = await this.#open().next();
    if (step.done || this.#closed) return { done: true, value: undefined };
    const event = step.value;
    const key = this.#o.shareKey;
    if (key === undefined || typeof event !== 'object' || event === null)
      return { done: false, value: await this.#run(event) };
    let byKey = completions.get(event);
    if (!byKey) {
      byKey = new Map();
      completions.set(event, byKey);
    }
    let shared = byKey.get(key);
    if (!shared) {
      shared = this.#run(event);
      byKey.set(key, shared);
    }
    return { done: false, value: await shared };
  }

  async return(): Promise<IteratorResult<SubscriptionEventResult>> {
    this.#closed = true;
    await this.#upstream?.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
