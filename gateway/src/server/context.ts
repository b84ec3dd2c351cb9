import type { IncomingMessage } from 'node:http';
import { context as otelContext } from '@opentelemetry/api';
import type { Authentication } from '../auth/index.ts';
import type { ClientAddressOf } from '../client-address/index.ts';
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

/** Builds each GraphQL request's context: the authenticated principal, the client address, the record. */
export function createContextBuilder(
  authentication: Pick<Authentication, 'authenticate'>,
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
    // the request's telemetry record (access log, span attributes), for the plugins that fill it in
    bindRecord(context, recordOf(req));
    annotateRequest(req, { principal: principal.id, principalKind: principal.kind });
    return context;
  };
}
