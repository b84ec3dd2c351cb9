import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  GraphQLError,
  getOperationAST,
  type OperationDefinitionNode,
  print,
} from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../errors/index.ts';
import { wrapExecutor } from '../executor-wrap/index.ts';
import { mapSubscriptionEvents } from '../incremental/index.ts';
import { type AccessRules, type AuthorizedOperation, applyDenials, authorizeOperation } from './authorize.ts';
import type { Principal } from './principal.ts';

/** Distinct callers (signed in or not × scope sets) remembered per document before the memo starts over. */
const MAX_CALLERS_PER_DOCUMENT = 256;

/** The result with the denied fields' errors added (the fields themselves are null or absent in it). */
function withDenials<R extends { data?: unknown; errors?: readonly GraphQLError[] }>(
  result: R,
  decision: AuthorizedOperation,
): R {
  if (result.data === undefined) return result;
  const data = result.data as Record<string, unknown> | null;
  const errors = applyDenials(data, decision.denials).map(
    (e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions }),
  );
  return errors.length ? { ...result, errors: [...(result.errors ?? []), ...errors] } : result;
}

export interface AuthorizationContext extends BaseContext {
  principal: Principal;
}

export interface Authorization<T extends AuthorizationContext> {
  /** Decides, after validation, which fields the caller may see; refuses when none (401/403). */
  plugin: ApolloServerPlugin<T>;
  /** Wraps the gateway so that planning and execution see the operation without the denied fields. */
  wrap(gateway: GatewayInterface): GatewayInterface;
}

/**
 * @authenticated / @requiresScopes enforcement in front of @apollo/gateway, which does not enforce them.
 * Denied fields never reach a subgraph: the executor plans the rewritten operation.
 */
export function createAuthorization<T extends AuthorizationContext>(deps: {
  rules(): AccessRules;
}): Authorization<T> {
  const decisions = new WeakMap<object, AuthorizedOperation>();
  // The decision depends only on the rules, the parsed document (Apollo Server hands the same object for
  // the same query text), the operation name and what the principal holds (signed in or not, scopes), so
  // it is computed once per combination rather than by walking the operation on every request.
  const memo = new WeakMap<AccessRules, WeakMap<DocumentNode, Map<string, AuthorizedOperation | null>>>();
  const decide = (
    rules: AccessRules,
    document: DocumentNode,
    operationName: string | undefined,
    principal: Principal,
  ): AuthorizedOperation | undefined => {
    let byDocument = memo.get(rules);
    if (!byDocument) {
      byDocument = new WeakMap();
      memo.set(rules, byDocument);
    }
    let byCaller = byDocument.get(document);
    if (!byCaller) {
      byCaller = new Map();
      byDocument.set(document, byCaller);
    }
    const key = `${operationName ?? ''}\0${principal.kind === 'anonymous' ? '' : 'signed-in'}\0${principal.scopes.join(' ')}`;
    let decision = byCaller.get(key);
    if (decision === undefined) {
      decision = authorizeOperation(document, operationName, rules, principal) ?? null;
      if (byCaller.size >= MAX_CALLERS_PER_DOCUMENT) byCaller.clear();
      byCaller.set(key, decision);
    }
    return decision ?? undefined;
  };
  // The rewritten operation's text, hash and AST node, once per decision.
  const rewritten = new WeakMap<
    AuthorizedOperation,
    { source: string; queryHash: string; operation: OperationDefinitionNode | null | undefined }
  >();

  const plugin: ApolloServerPlugin<T> = {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const result = decide(
            deps.rules(),
            rc.document,
            rc.request.operationName,
            rc.contextValue.principal,
          );
          if (!result) return;
          if (result.empty) {
            const fields = result.denials.map((d) => d.path.join('.') || '(operation)');
            const unauthenticated = result.denials.every((d) => d.code === 'UNAUTHENTICATED');
            const message = unauthenticated
              ? `Authentication required for ${fields.join(', ')}`
              : `Not allowed to read ${fields.join(', ')}`;
            throw unauthenticated ? new UnauthenticatedError(message) : new ForbiddenError(message);
          }
          decisions.set(rc.contextValue, result);
        },
      };
    },
  };

  const withoutDenied =
    (execute: GatewayExecutor): GatewayExecutor =>
    async (rc) => {
      const decision = decisions.get(rc.context);
      if (!decision) return execute(rc);
      let text = rewritten.get(decision);
      if (!text) {
        const source = print(decision.document);
        text = {
          source,
          // Leave this intact: the gateway caches plans by queryHash, and a plan built for a caller who may
          // see more fields must never serve one who may not, so the rewritten operation gets its own hash.
          queryHash: createHash('sha256').update(source).digest('hex'),
          operation: getOperationAST(decision.document, rc.request.operationName),
        };
        rewritten.set(decision, text);
      }
      const result = await execute({
        ...rc,
        document: decision.document,
        source: text.source,
        operation: text.operation ?? rc.operation,
        queryHash: text.queryHash,
      });
      // A subscription's result has no data: its denials go on each of its events instead.
      mapSubscriptionEvents(rc.context, (event) => withDenials(event, decision));
      return withDenials(result, decision);
    };

  return {
    plugin,
    wrap: (gateway) => wrapExecutor(gateway, withoutDenied),
  };
}
