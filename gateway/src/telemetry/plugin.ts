import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { isSpanContextValid } from '@opentelemetry/api';
import { wantsTrace } from './request.ts';
import { annotateRequest, outcomeOf, recordOf } from './spans.ts';

export interface TelemetryPluginOptions {
  /** Request header that asks for the trace id in `extensions.traceId` ('' turns it off). */
  debugHeader: string;
}

/**
 * Names the request's span and access-log line after its operation, notes whether the answer is an
 * error (for the span's status), and, when the client sent the debug header (`tollgate-debug: trace`), answers the trace id in `extensions.traceId` to look up in Jaeger.
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
          const body = rc.response.body;
          const record = recordOf(rc.contextValue);
          // the request span's status is set from this when the response is done (request.ts)
          if (record?.span?.isRecording())
            record.outcome = outcomeOf(body.kind === 'single' ? body.singleResult : body.initialResult);
          if (!header || !wantsTrace(rc.request.http?.headers.get(header))) return;
          const sc = record?.span?.spanContext();
          if (body.kind !== 'single' || !sc || !isSpanContextValid(sc)) return;
          body.singleResult.extensions = { ...body.singleResult.extensions, traceId: sc.traceId };
        },
      };
    },
  };
}
