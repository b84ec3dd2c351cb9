import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '@tollgate/kit/http';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../errors/index.ts';
import type { SubscriptionRequest } from '../subscriptions/index.ts';
import { flattenHeaders } from './caller.ts';
import { type GuardedStream, guardStream } from './guard-stream.ts';
import { TransportCounters } from './stats.ts';
import type { TransportEndReason, TransportOptions, TransportProtocol, TransportStats } from './types.ts';

/** A subscription transport over one HTTP response per operation (SSE, multipart). */
export interface HttpSubscriptionTransport {
  /**
   * Serves one operation on `res` until its stream ends or the client goes away. The request body must
   * already be read and parsed (parseSubscriptionRequest). Never rejects.
   */
  handle(req: IncomingMessage, res: ServerResponse, request: SubscriptionRequest): Promise<void>;
  /** Graceful shutdown: refuses new requests (503), ends every open stream and resolves once all are closed. */
  close(): Promise<void>;
  stats(): TransportStats;
}

export interface HttpStreamOptions extends TransportOptions {
  /** Interval of keep-alive writes on an open stream; 0 turns them off. */
  heartbeatMs?: number;
  /**
   * How long a response may stay backed up (its last write not drained) before it is closed as a slow
   * consumer. @default 30000
   */
  drainTimeoutMs?: number;
}

/** How a protocol frames a stream on the wire. */
export interface Framing {
  contentType: string;
  headers: Readonly<Record<string, string>>;
  /** Written right after the head, or '' (some browsers wait for a first byte). */
  first: string;
  heartbeat: string;
  next(result: FormattedExecutionResult): string;
  /** The end of a stream that finished. */
  complete: string;
  /** The end of a stream that failed: an error the client can see, then the end. */
  failure(errors: readonly GraphQLFormattedError[]): string;
  /** Written before ending on shutdown: '' to end without completing, so clients subscribe again. */
  shutdown: string;
}

const UNEXPECTED: GraphQLFormattedError[] = [
  { message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } },
];

const DEFAULT_MAX_BUFFERED = 1024 * 1024;

function noData(result: FormattedExecutionResult): boolean {
  return result.data === undefined || result.data === null;
}

/** The SSE and multipart transports: one HTTP response per operation, framed by `framing`. */
export function createHttpStreamTransport(
  protocol: TransportProtocol,
  framing: Framing,
  options: HttpStreamOptions & { heartbeatMs: number },
): HttpSubscriptionTransport {
  const counters = new TransportCounters(protocol, options.onEnd);
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  const open = new Map<ServerResponse, (reason: TransportEndReason) => void>();
  let closing = false;
  let allClosed: (() => void) | undefined;

  const forget = (res: ServerResponse) => {
    if (open.delete(res) && closing && open.size === 0) allClosed?.();
  };

  async function stream(
    res: ServerResponse,
    headers: Readonly<Record<string, string>>,
    events: GuardedStream,
  ) {
    let reason: TransportEndReason | undefined;
    let backedUp: (() => void) | undefined;
    const stopAll = (why: TransportEndReason) => {
      events.stop(why);
      backedUp?.();
    };
    const slow = () => {
      stopAll('slow-consumer');
      res.destroy();
    };
    const write = (chunk: string): boolean => {
      if (res.destroyed || res.writableEnded) return true;
      const ok = res.write(chunk);
      if (res.writableLength > maxBuffered) slow();
      return ok;
    };
    res.writeHead(200, {
      ...headers,
      ...framing.headers,
      'content-type': framing.contentType,
      'cache-control': 'no-cache',
    });
    if (framing.first) write(framing.first);
    else res.flushHeaders();
    const heartbeat =
      options.heartbeatMs > 0 ? setInterval(() => write(framing.heartbeat), options.heartbeatMs) : undefined;
    heartbeat?.unref();
    res.once('close', () => backedUp?.());
    open.set(res, (why) => {
      stopAll(why);
      // a client that does not read will not read a goodbye either
      if (why === 'shutdown' && res.writableNeedDrain) res.destroy();
    });
    try {
      for (;;) {
        const next = await events.next().catch(() => undefined);
        if (!next) {
          reason = 'error';
          break;
        }
        if (next.done) break;
        counters.events++;
        if (!write(framing.next(next.value)) && !events.ended) {
          // stop pulling until the client has read what it was sent, within drainTimeoutMs
          await new Promise<void>((resolve) => {
            const timer = setTimeout(slow, drainTimeoutMs);
            const done = () => {
              clearTimeout(timer);
              res.off('drain', done);
              backedUp = undefined;
              resolve();
            };
            backedUp = done;
            res.on('drain', done);
          });
        }
      }
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
    return reason;
  }

  return {
    stats: () => counters.snapshot(),
    async handle(req, res, request) {
      if (closing) {
        sendJson(
          res,
          503,
          {
            errors: [{ message: 'The gateway is shutting down', extensions: { code: ErrorCode.OVERLOADED } }],
          },
          { 'retry-after': '1', connection: 'close' },
        );
        return;
      }
      counters.connections++;
      let gone = false;
      let current: GuardedStream | undefined;
      let endReason: TransportEndReason | undefined;
      res.once('close', () => {
        gone = true;
        counters.connections--;
        current?.stop('client');
        forget(res);
      });
      try {
        const started = await options.start(
          {
            headers: flattenHeaders(req.headers),
            remoteAddress: options.clientAddress?.(req) ?? req.socket.remoteAddress ?? '',
            connectionId: randomUUID(),
            method: req.method === 'GET' ? 'GET' : 'POST',
          },
          request,
        );
        if (started.kind === 'result') {
          if (gone) return;
          const { status, headers, result } = started;
          if (status !== 200 && noData(result)) return sendJson(res, status, result, { ...headers });
          counters.events++;
          res.writeHead(200, { ...headers, ...framing.headers, 'content-type': framing.contentType });
          res.end(`${framing.first}${framing.next(result)}${framing.complete}`);
          return;
        }
        counters.opened();
        current = guardStream(started.events, (why) => {
          endReason = why;
          counters.ended(why);
        });
        if (gone || closing) {
          current.stop(gone ? 'client' : 'shutdown');
          if (!gone) res.destroy();
          return;
        }
        const failed = await stream(res, started.headers, current);
        const why = failed ?? endReason;
        if (res.destroyed || res.writableEnded) return;
        if (why === 'complete') res.end(framing.complete);
        else if (why === 'error') res.end(framing.failure(UNEXPECTED));
        else if (why === 'shutdown') res.end(framing.shutdown);
        else res.destroy();
      } catch {
        current?.stop('error');
        if (!res.headersSent) sendJson(res, 500, { errors: UNEXPECTED });
        else res.destroy();
      } finally {
        forget(res);
      }
    },
    close() {
      closing = true;
      if (open.size === 0) return Promise.resolve();
      const done = new Promise<void>((resolve) => {
        allClosed = resolve;
      });
      for (const stop of open.values()) stop('shutdown');
      return done;
    },
  };
}
