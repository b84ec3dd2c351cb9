import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { Kind, OperationTypeNode } from 'graphql';
import { ErrorCode } from '../errors/index.ts';
import { failSpan, traceContextOf, tracer } from '../telemetry/index.ts';
import { PoolError } from './errors.ts';
import type { ReplicaPool } from './replica-pool.ts';
import { type PoolRoute, subsetText } from './subset.ts';

/**
 * Adds headers to one subgraph request (principal signing) given its exact body; `signed` names the
 * headers of the header rules, which the signature must cover too.
 */
export type RequestDecorator<TContext> = (
  headers: Record<string, string>,
  body: string,
  context: TContext | undefined,
  signed?: readonly string[],
) => void;

/** The headers the header rules add to one fetch to `subgraph` (context undefined: a health check). */
export type RequestHeaderRules<TContext> = (
  subgraph: string,
  context: TContext | undefined,
) => Readonly<Record<string, string>>;

export interface ReplicaDataSourceOptions<TContext> {
  pool: ReplicaPool;
  /** Called for every request after the body is serialized. */
  decorate?: RequestDecorator<TContext>;
  /** The `headers` rules, applied before `decorate` signs the fetch. @default none */
  headerRules?: RequestHeaderRules<TContext> | undefined;
  /** The replica subset a request's routing rules chose for this subgraph. @default the whole pool */
  route?: (context: TContext | undefined) => PoolRoute | undefined;
}

function isMutation(options: GraphQLDataSourceProcessOptions): boolean {
  const doc = options.kind === 'incoming operation' ? options.document : undefined;
  if (doc) {
    return doc.definitions.some(
      (d) => d.kind === 'OperationDefinition' && d.operation === OperationTypeNode.MUTATION,
    );
  }
  return /^\s*mutation\b/.test(options.request.query ?? '');
}

/**
 * Where a failed fetch's errors belong: each entity of an entity fetch (`_entities.i`, which the gateway
 * maps to the entity's path in the response), or each root field of a root fetch, so every null the
 * failure leaves behind has its error (GraphQL spec §7.1.2).
 */
function errorPaths(options: GraphQLDataSourceProcessOptions): (string | number)[][] {
  const reps = options.request.variables?.representations;
  if (Array.isArray(reps)) return reps.map((_, i) => ['_entities', i]);
  const doc = options.kind === 'incoming operation' ? options.document : undefined;
  const op = doc?.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (op?.kind !== Kind.OPERATION_DEFINITION) return [];
  return op.selectionSet.selections.flatMap((s) =>
    s.kind === Kind.FIELD ? [[(s.alias ?? s.name).value]] : [],
  );
}

function unavailable(
  options: GraphQLDataSourceProcessOptions,
  service: string,
  message: string,
  reason: string,
): GatewayGraphQLResponse {
  const extensions = { code: ErrorCode.SUBGRAPH_UNAVAILABLE, serviceName: service, reason };
  const paths = errorPaths(options);
  if (!paths.length) return { errors: [{ message, extensions }] };
  return { errors: paths.map((path) => ({ message, path, extensions })) };
}

/**
 * A GraphQLDataSource that sends each subgraph fetch through the replica pool. It implements `process`
 * directly instead of subclassing RemoteGraphQLDataSource: that class builds node-fetch Headers and a
 * Request per fetch and only lets us swap the fetcher, which is where half of Apollo Gateway's CPU goes
 * (docs/design.md#performance).
 * Each fetch is bounded by the subgraph's pool timeout (`pool.timeoutMs`, per-subgraph
 * overrides first). Transport failures come back as SUBGRAPH_UNAVAILABLE errors, so the gateway returns
 * partial data with the error at the fetch's path.
 */
export class ReplicaDataSource<TContext extends Record<string, unknown> = Record<string, unknown>>
  implements GraphQLDataSource<TContext>
{
  readonly #pool: ReplicaPool;
  readonly #decorate: RequestDecorator<TContext> | undefined;
  readonly #headerRules: RequestHeaderRules<TContext> | undefined;
  readonly #route: ReplicaDataSourceOptions<TContext>['route'];

  constructor(options: ReplicaDataSourceOptions<TContext>) {
    this.#pool = options.pool;
    this.#decorate = options.decorate;
    this.#headerRules = options.headerRules;
    this.#route = options.route;
  }

  async process(options: GraphQLDataSourceProcessOptions<TContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const name = this.#pool.name;
    if (!request.query) throw new Error('Missing query');
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
      extensions: request.extensions,
    });
    const context = options.kind === 'incoming operation' ? (options.context as TContext) : undefined;
    // The rules' headers first, so the gateway's own always win (the config refuses rules naming them).
    const added = this.#headerRules?.(name, context);
    const headers: Record<string, string> = {
      ...added,
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    this.#decorate?.(headers, body, context, added && Object.keys(added));

    let result: Awaited<ReturnType<ReplicaPool['send']>>;
    const mutation = isMutation(options);
    const route = this.#route?.(context);
    // The fetch span, parent of one attempt span per replica tried (attempt.ts); only for a sampled
    // request. Made here, not by the plan executor, so any executor that calls process() gets it.
    // The trace context of the request's execution, carried on its GraphQL context (the gateway has no
    // async-context store: a fetch after the first await would not find it in the active context).
    const parent = traceContextOf(context) ?? otelContext.active();
    const span = trace.getSpan(parent)?.isRecording()
      ? tracer.startSpan(
          'gateway.pool.fetch',
          {
            attributes: {
              'tollgate.subgraph.name': name,
              'graphql.operation.type': mutation ? 'mutation' : 'query',
              ...(request.operationName ? { 'graphql.operation.name': request.operationName } : {}),
              ...(route && {
                'tollgate.routing.rule': route.rule ?? '-',
                'tollgate.routing.subset': subsetText(route.select),
              }),
            },
          },
          parent,
        )
      : undefined;
    try {
      result = await this.#pool.send(body, headers, {
        idempotent: !mutation,
        traceContext: span ? trace.setSpan(parent, span) : parent,
        route,
      });
      if (span) {
        span.setAttributes({
          'http.response.status_code': result.status,
          'tollgate.replica': result.replica,
          ...(result.routed && { 'tollgate.routing.outcome': result.routed }),
        });
        if (result.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } catch (error) {
      if (span) {
        if (error instanceof PoolError && error.routed)
          span.setAttribute('tollgate.routing.outcome', error.routed);
        failSpan(span, error);
      }
      if (error instanceof PoolError)
        return unavailable(options, name, `Subgraph ${name} is unavailable: ${error.message}`, error.code);
      throw error;
    } finally {
      span?.end();
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(result.body);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === 'object' && parsed !== null && ('data' in parsed || 'errors' in parsed)) {
      // GraphQL-over-HTTP subgraphs answer 4xx with a GraphQL body: the body says what went wrong.
      return parsed as GatewayGraphQLResponse;
    }
    const code = result.status >= 500 ? 'POOL_UPSTREAM_ERROR' : 'POOL_BAD_RESPONSE';
    return unavailable(
      options,
      name,
      `Subgraph ${name} answered ${result.status} without a GraphQL body`,
      code,
    );
  }
}
