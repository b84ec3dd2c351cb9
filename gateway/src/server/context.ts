import type { IncomingMessage } from 'node:http';
import { context as otelContext } from '@opentelemetry/api';
import type { Authentication, Principal } from '../auth/index.ts';
import type { ClientAddressOf } from '../client-address/index.ts';
import type { Router } from '../routing/index.ts';
import { annotateRequest, bindRecord, recordOf, traceContextOf } from '../telemetry/index.ts';
import type { GatewayContext } from './types.ts';

function headerSource(req: IncomingMessage) {
  return {
    get(name: string): string | undefined {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/**
 * What weight rules hash, so one caller stays on one side: the principal, or for anonymous callers
 * (who all share the id `anonymous`) the client address.
 */
function stickyKey(principal: Principal, clientAddress: string): string {
  return principal.kind === 'anonymous' ? `address:${clientAddress}` : `${principal.kind}:${principal.id}`;
}

/**
 * Builds each GraphQL request's context: the authenticated principal, the client address, the record,
 * and what the routing rules decided (replica subsets, progressive-override labels).
 */
export function createContextBuilder(
  authentication: Pick<Authentication, 'authenticate'>,
  /** The routing rules in force (a config reload may swap them). */
  router?: () => Router,
  /** The client's address (server.trustedProxies); the socket's peer by default. */
  clientAddressOf: ClientAddressOf = (req) => req.socket.remoteAddress ?? 'unknown',
): (req: IncomingMessage) => Promise<GatewayContext> {
  return async (req) => {
    const clientAddress = clientAddressOf(req);
    // the auth span's parent is the request's span (no async-context store: passed, not inherited)
    const principal = await otelContext.with(traceContextOf(req) ?? otelContext.active(), () =>
      authentication.authenticate(headerSource(req), clientAddress),
    );
    const context: GatewayContext = {
      principal,
      clientAddress,
      requestHeaders: req.headers,
    };
    const rules = router?.();
    if (rules?.active) {
      const routing = rules.decide({
        headers: req.headers,
        claims: principal.claims,
        stickyKey: stickyKey(principal, context.clientAddress),
      });
      context.routing = routing;
      if (routing.activate.size) context.overrideLabels = routing.activate;
    }
    // the request's telemetry record (access log, span attributes), for the plugins that fill it in
    bindRecord(context, recordOf(req));
    annotateRequest(req, { principal: principal.id, principalKind: principal.kind });
    return context;
  };
}
