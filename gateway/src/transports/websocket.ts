import { randomUUID } from 'node:crypto';
import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  buildSchema,
  type ExecutionArgs,
  type FormattedExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  parse,
} from 'graphql';
import { handleProtocols, makeServer, type OperationResult } from 'graphql-ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { ErrorCode } from '../errors/index.ts';
import { callerHeaders } from './caller.ts';
import { type GuardedStream, guardStream } from './guard-stream.ts';
import { TransportCounters } from './stats.ts';
import type { TransportEndReason, TransportOptions, TransportStats } from './types.ts';

export interface WebSocketTransportOptions extends TransportOptions {
  /** Time a socket has to send `connection_init` before it is closed with 4408. @default 3000 */
  connectionInitWaitTimeoutMs?: number;
  /** Interval of server pings; a socket that did not pong since the last one is terminated. 0 turns it off. @default 12000 */
  keepAliveMs?: number;
  /** Open sockets at most; further upgrades are answered 503 with Retry-After, never accepted. @default 10000 */
  maxConnections?: number;
  /** Subscriptions one socket may run at once; one more is answered with an `error` message. @default 100 */
  maxSubscriptionsPerConnection?: number;
  /** Largest message a client may send (ws closes with 1009 beyond it). @default 1048576 */
  maxPayloadBytes?: number;
  /** Refuses upgrades with 503 while this says the process is overloaded (the HTTP handler's guard). @default never */
  overloaded?: () => boolean;
  /** Time a closing socket (shutdown, slow consumer) gets to finish the close handshake before it is terminated. @default 1000 */
  closeGraceMs?: number;
  /** The one path upgrades are taken on. @default '/graphql' */
  path?: string;
}

/** The graphql-transport-ws transport, for a node:http server's `upgrade` event. */
export interface WebSocketTransport {
  /** Takes over an upgrade request (only on `options.path`; other paths are answered 404). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Graceful shutdown: refuses upgrades (503), closes sockets with 1001 and stops every stream. */
  close(): Promise<void>;
  stats(): TransportStats;
}

interface Connection {
  id: string;
  ws: WebSocket;
  /** The upgrade request's headers and peer: kept, not the request itself (10,000 sockets hold these). */
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  alive: boolean;
  /** Why the server is closing this socket, once it is. */
  reason?: TransportEndReason;
  streams: Set<GuardedStream>;
  /** Errors of `error` messages to send as they are (graphql-ws would re-serialize GraphQLError objects). */
  errors: Map<string, readonly GraphQLFormattedError[]>;
  closed: Promise<void>;
}

/** What onSubscribe hands to `subscribe` through graphql-ws: the started stream, or a single result. */
interface Started {
  value: GuardedStream | FormattedExecutionResult;
}

// graphql-ws needs a document and a schema to pick subscribe() over execute(); both are placeholders,
// the operation is the start function's, carried in rootValue.
const SCHEMA = buildSchema('type Query { _: Boolean } type Subscription { _: Boolean }');
const DOCUMENT = parse('subscription { _ }');
const UNEXPECTED: GraphQLFormattedError[] = [
  { message: 'Unexpected error.', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } },
];

function refuse(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  // 503: at a limit, overloaded or closing; anything else is the client's request (a wrong path)
  const code = status === 503 ? ErrorCode.OVERLOADED : ErrorCode.BAD_REQUEST;
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  const head = Object.entries({
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * GraphQL over WebSocket (graphql-transport-ws) on graphql-ws's protocol core (`makeServer`). Its ws
 * adapter (`useServer`) is not used: it awaits every send's flush, so a client that does not read holds
 * its streams still with no bound on how long, and it hides why a socket closed. Here sends are not
 * awaited; a socket whose unsent bytes exceed maxBufferedBytes is closed (1008 "slow consumer") and its
 * streams stopped, so memory stays bounded by the limit.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const counters = new TransportCounters('websocket', options.onEnd);
  const maxConnections = options.maxConnections ?? 10_000;
  const maxSubscriptions = options.maxSubscriptionsPerConnection ?? 100;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const keepAliveMs = options.keepAliveMs ?? 12_000;
  const closeGraceMs = options.closeGraceMs ?? 1000;
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols,
    maxPayload: options.maxPayloadBytes ?? 1024 * 1024,
  });
  const connections = new Set<Connection>();
  let closing = false;

  /** Closes a socket for `reason` first (so no `complete` reaches the client), then stops its streams. */
  const shut = (conn: Connection, reason: TransportEndReason, code: number, text: string) => {
    if (conn.reason) return;
    conn.reason = reason;
    conn.ws.close(code, text);
    const timer = setTimeout(() => conn.ws.terminate(), closeGraceMs);
    timer.unref();
    void conn.closed.then(() => clearTimeout(timer));
    for (const stream of [...conn.streams]) stream.stop(reason);
  };

  const server = makeServer<Record<string, unknown> | undefined, Connection>({
    schema: SCHEMA,
    connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs ?? 3000,
    subscribe: (args: ExecutionArgs) => (args.rootValue as Started).value as OperationResult,
    async onSubscribe(ctx, id, payload) {
      const conn = ctx.extra;
      const refuseWith = (errors: readonly GraphQLFormattedError[]) => {
        conn.errors.set(id, errors);
        return errors.map((e) => new GraphQLError(e.message));
      };
      if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
        counters.refused++;
        return refuseWith([
          {
            message: `Too many subscriptions on this connection: the limit is ${maxSubscriptions}`,
            extensions: {
              code: ErrorCode.BAD_REQUEST,
              limit: 'subscriptionsPerConnection',
              max: maxSubscriptions,
            },
          },
        ]);
      }
      let started: Awaited<ReturnType<typeof options.start>>;
      try {
        started = await options.start(
          {
            headers: callerHeaders(conn.headers, ctx.connectionParams),
            remoteAddress: conn.remoteAddress,
            connectionId: conn.id,
            method: 'WEBSOCKET',
          },
          payload,
        );
      } catch {
        return refuseWith(UNEXPECTED);
      }
      if (started.kind === 'result') {
        // A request error (no `data`: refused before execution) is an `error` message, as graphql-ws
        // answers validation errors; a result that executed is `next` + `complete`.
        const { result } = started;
        if (result.data === undefined && result.errors?.length) return refuseWith(result.errors);
        return { schema: SCHEMA, document: DOCUMENT, rootValue: { value: result } satisfies Started };
      }
      counters.opened();
      const stream: GuardedStream = guardStream(
        started.events,
        (why) => {
          conn.streams.delete(stream);
          counters.ended(why);
        },
        () => conn.reason ?? 'client',
      );
      conn.streams.add(stream);
      // the socket closed while starting: graphql-ws returns() the stream, with the socket's reason
      return { schema: SCHEMA, document: DOCUMENT, rootValue: { value: stream } satisfies Started };
    },
    onNext(_ctx, _id, _payload, _args, result) {
      counters.events++;
      // sent as the start function formatted it (graphql-ws would call toJSON on each error)
      return result as FormattedExecutionResult;
    },
    onError(ctx, id) {
      const errors = ctx.extra.errors.get(id);
      ctx.extra.errors.delete(id);
      // anything else is a stream that threw: masked
      return errors ?? UNEXPECTED;
    },
  });

  const onConnection = (ws: WebSocket, request: IncomingMessage) => {
    let resolveClosed: () => void = () => {};
    const conn: Connection = {
      id: randomUUID(),
      ws,
      headers: request.headers,
      remoteAddress: options.clientAddress?.(request) ?? request.socket.remoteAddress ?? '',
      alive: true,
      streams: new Set(),
      errors: new Map(),
      closed: new Promise((resolve) => {
        resolveClosed = resolve;
      }),
    };
    connections.add(conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', () => ws.terminate());
    const closed = server.opened(
      {
        protocol: ws.protocol,
        send: async (data) => {
          if (ws.readyState !== ws.OPEN) return;
          ws.send(data);
          // leave this intact: not awaiting the flush is what lets a slow consumer be noticed at all
          if (ws.bufferedAmount > maxBuffered) shut(conn, 'slow-consumer', 1008, 'slow consumer');
        },
        close: (code, reason) => ws.close(code, reason),
        onMessage: (cb) =>
          ws.on('message', async (data) => {
            try {
              await cb(String(data));
            } catch {
              ws.close(4500, 'Internal server error');
            }
          }),
      },
      conn,
    );
    ws.once('close', (code, reason) => {
      connections.delete(conn);
      for (const stream of [...conn.streams]) stream.stop(conn.reason ?? 'client');
      void closed(code, String(reason)).finally(resolveClosed);
    });
    if (closing) shut(conn, 'shutdown', 1001, 'going away');
  };

  const keepAlive =
    keepAliveMs > 0
      ? setInterval(() => {
          for (const conn of connections) {
            if (conn.reason) continue;
            if (!conn.alive) {
              conn.reason = 'keepalive';
              for (const stream of [...conn.streams]) stream.stop('keepalive');
              conn.ws.terminate();
              continue;
            }
            conn.alive = false;
            conn.ws.ping();
          }
        }, keepAliveMs)
      : undefined;
  keepAlive?.unref();

  return {
    stats: () => counters.snapshot(),
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '/').split('?')[0];
      const route = options.path ?? '/graphql';
      if (path !== route) return refuse(socket, 404, `no WebSocket route ${path}; use ${route}`);
      if (closing) return refuse(socket, 503, 'The gateway is shutting down', { 'retry-after': '1' });
      if (options.overloaded?.()) {
        counters.refused++;
        return refuse(socket, 503, 'The gateway is overloaded; retry shortly', { 'retry-after': '1' });
      }
      if (counters.connections >= maxConnections) {
        counters.refused++;
        return refuse(socket, 503, `The gateway is at its limit of ${maxConnections} WebSocket connections`, {
          'retry-after': '1',
        });
      }
      // counted from the upgrade on (a handshake in progress holds a place), until the TCP socket closes
      counters.connections++;
      socket.once('close', () => counters.connections--);
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    },
    async close() {
      closing = true;
      if (keepAlive) clearInterval(keepAlive);
      const all = [...connections];
      for (const conn of all) shut(conn, 'shutdown', 1001, 'going away');
      await Promise.all(all.map((c) => c.closed));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
