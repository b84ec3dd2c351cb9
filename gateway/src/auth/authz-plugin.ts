import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, getOperationAST, print } from 'graphql';
import { ForbiddenError, UnauthenticatedError } from '../errors/index.ts';
import { type AccessRules, type AuthorizedOperation, applyDenials, authorizeOperation } from './authorize.ts';
import type { Principal } from './principal.ts';

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
 * @authenticated / @requiresScopes enforcement in front of @apollo/gateway, which does not enforce them
 * (SEAMS.md §2–3b). Denied fields never reach a subgraph: the executor plans the rewritten operation.
 */
export function createAuthorization<T extends AuthorizationContext>(deps: {
  rules(): AccessRules;
}): Authorization<T> {
  const decisions = new WeakMap<object, AuthorizedOperation>();

  const plugin: ApolloServerPlugin<T> = {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          const result = authorizeOperation(
            rc.document,
            rc.request.operationName,
            deps.rules(),
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

  const wrapExecutor =
    (execute: GatewayExecutor): GatewayExecutor =>
    async (rc) => {
      const decision = decisions.get(rc.context);
      if (!decision) return execute(rc);
      const source = print(decision.document);
      const result = await execute({
        ...rc,
        document: decision.document,
        source,
        operation: getOperationAST(decision.document, rc.request.operationName) ?? rc.operation,
        // Leave this intact: the gateway caches plans by queryHash, and a plan built for a caller who may
        // see more fields must never serve one who may not (SEAMS.md §3b pitfall).
        queryHash: createHash('sha256').update(source).digest('hex'),
      });
      const data = result.data as Record<string, unknown> | null | undefined;
      const errors = applyDenials(data, decision.denials).map(
        (e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions }),
      );
      return errors.length ? { ...result, errors: [...(result.errors ?? []), ...errors] } : result;
    };

  return {
    plugin,
    wrap(gateway) {
      return {
        async load(options) {
          const loaded = await gateway.load(options);
          return { ...loaded, executor: loaded.executor && wrapExecutor(loaded.executor) };
        },
        onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
        stop: () => gateway.stop(),
      };
    },
  };
}
