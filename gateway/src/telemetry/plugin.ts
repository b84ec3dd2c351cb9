import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { isSpanContextValid } from '@opentelemetry/api';
import { wantsTrace } from './request.ts';
import { annotateRequest, recordOf } from './spans.ts';

export interface TelemetryPluginOptions {
  /** Request header that asks for the trace id in `extensions.traceId` ('' turns it off). */
  debugHeader: string;
}

/**
 * Names the request's span and access-log line after its operation, and, when the client sent the debug
 * header (`tollgate-debug: trace`), answers the trace id in `extensions.traceId` to look up in Jaeger.
 */
export function createTelemetryPlugin<T extends BaseContext>(
  options: TelemetryPluginOptions,
): ApolloServerPlugin<T> {
  const header = options.debugHeader.toLowerCase();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(rc) {
          annotateRequest(rc.contextValue, {
            operation: rc.operationName ?? undefined,
            operationType: rc.operation?.operation,
          });
        },
        async willSendResponse(rc) {
          if (!header || !wantsTrace(rc.request.http?.headers.get(header))) return;
          const body = rc.response.body;
          const sc = recordOf(rc.contextValue)?.span?.spanContext();
          if (body.kind !== 'single' || !sc || !isSpanContextValid(sc)) return;
          body.singleResult.extensions = { ...body.singleResult.extensions, traceId: sc.traceId };
        },
      };
    },
  };
}
