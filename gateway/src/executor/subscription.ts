import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { FormattedExecutionResult } from 'graphql';
import type { SubscriptionEventResult, SubscriptionEvents } from '../incremental/index.ts';
import type { SubscriptionNode } from '../planner/index.ts';
import { withEventSpan } from '../telemetry/index.ts';
import { rootCursor } from './cursor.ts';
import { completeFetches, executeNode, fetchVariables, mergeRootFetch, type PlanRun } from './plan-executor.ts';
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
}

/**
 * The events of one subscription: each event of the primary fetch's stream is merged at the root like a
 * root fetch's answer, the rest of the plan (entity fetches to other subgraphs) runs on it through the
 * pools with the caller's context, and the result is shaped under the GraphQL spec's error rules, as a
 * query's would be. The upstream is opened when the first event is asked for, and closed by `return()`.
 */
export function subscriptionEvents(options: SubscriptionRun): SubscriptionEvents {
  const { node, shape, requestContext: rc } = options;
  let upstream: AsyncIterableIterator<FormattedExecutionResult> | undefined;
  let closed = false;
  const newRun = (): PlanRun => ({
    service: options.service,
    requestContext: rc,
    variables: options.variables,
    errors: [],
    deferred: [],
    incomplete: [],
  });
  const open = () => {
    if (!upstream) {
      const variables = fetchVariables(newRun(), node.primary.variableUsages);
      upstream = options.subscribe(
        node.primary.serviceName,
        {
          query: node.primary.operation,
          variables: { ...variables },
          ...(node.primary.operationName ? { operationName: node.primary.operationName } : {}),
        },
        rc.context,
      );
    }
    return upstream;
  };
  const complete = async (event: FormattedExecutionResult): Promise<SubscriptionEventResult> => {
    const run = newRun();
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
    const shaped = shapeResponse(shape, data, rc.request.variables, { priorErrors: run.errors });
    const errors = [...run.errors, ...shaped.errors];
    return errors.length ? { data: shaped.data, errors } : { data: shaped.data };
  };
  return {
    async next() {
      if (closed) return { done: true, value: undefined };
      const step = await open().next();
      if (step.done || closed) return { done: true, value: undefined };
      const value = await withEventSpan(rc.context, 'gateway.subscription.event', () => complete(step.value), {
        'graphql.operation.type': 'subscription',
      });
      return { done: false, value };
    },
    async return() {
      closed = true;
      await upstream?.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
