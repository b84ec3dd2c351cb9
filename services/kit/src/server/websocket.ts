import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type GraphQLSchema, getOperationAST, parse } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { type ForwardedPrincipal, SignatureError } from '../signing/index.ts';

export interface SubscriptionServerOptions<C, A = ForwardedPrincipal | undefined> {
  /** The subgraph's executable schema (the one Apollo Server serves). */
  schema: GraphQLSchema;
  /**
   * Vets an upgrade request: what it was signed for (the principal, undefined when none or when
   * signatures are off), or a thrown `SignatureError`, which refuses the upgrade with its status.
   */
  authenticate(req: IncomingMessage): A;
  /** The context of one operation on a connection upgraded for `principal` (what `authenticate` gave). */
  context(principal: A): C;
  /**
   * How often each client is pinged; one that has not answered by the next ping is cut.
   * @default 15000
   */
  keepAliveMs?: number;
  /**
   * On close, how long clients get to answer the 1001 close frame before their sockets are cut.
   * @default 1000
   */
  closeGraceMs?: number;
}

/** The close code every client gets when the replica shuts down: resubscribe on another replica. */
export const GOING_AWAY = 1001;
const PATH = '/graphql';

/**
 * GraphQL over WebSocket (`graphql-transport-ws`, the graphql-ws protocol) at `/graphql` of the
 * subgraph's HTTP server. The gateway signs the upgrade request like a POST with an empty body; the
 * principal it carries is the principal of every operation on that connection.
 */
export class SubscriptionServer<C, A = ForwardedPrincipal | undefined> {
  readonly #o: SubscriptionServerOptions<C, A>;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #principals = new WeakMap<IncomingMessage, { principal: A }>();
  readonly #open = new Map<object, Set<string>>();
  #closing = false;

  constructor(options: SubscriptionServerOptions<C, A>) {
    this.#o = options;
    useServer<Record<string, unknown> | undefined>(
      {
        schema: options.schema,
        // No stack traces nor internal messages to the client, whatever NODE_ENV says.
        isProd: true,
        // every connection was admitted (and its entry set) before any operation on it
        context: (ctx) =>
          options.context((this.#principals.get(ctx.extra.request) as { principal: A }).principal),
        // The signature is checked once, at the upgrade, and the connection lives on: leave this intact, so
        // a replayed upgrade can at most watch events, never run mutations as its principal.
        onSubscribe: (_ctx, _id, payload) =>
          isSubscription(payload.query, payload.operationName) ? undefined : [ONLY_SUBSCRIPTIONS],
        onOperation: (ctx, id, _payload, _args, result) => {
          if (!isAsyncIterable(result)) return;
          const ids = this.#open.get(ctx) ?? new Set<string>();
          ids.add(id);
          this.#open.set(ctx, ids);
        },
        onComplete: (ctx, id) => {
          this.#open.get(ctx)?.delete(id);
        },
        onClose: (ctx) => {
          this.#open.delete(ctx);
        },
      },
      this.#wss,
      options.keepAliveMs ?? 15_000,
    );
  }

  /** Subscriptions running on this replica's sockets. */
  get subscriptions(): number {
    let n = 0;
    for (const ids of this.#open.values()) n += ids.size;
    return n;
  }

  /** Sockets open. */
  get connections(): number {
    return this.#wss.clients.size;
  }

  /** The HTTP server's `upgrade` handler: `/graphql` only, signed when signatures are on. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const admitted = this.#admit(req);
    if ('status' in admitted) {
      refuse(socket, admitted);
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.#principals.set(req, { principal: admitted.principal });
      if (this.#closing) {
        ws.close(GOING_AWAY, 'Going away');
        return;
      }
      this.#wss.emit('connection', ws, req);
    });
  }

  #admit(req: IncomingMessage): { principal: A } | Refusal {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== PATH) return { status: 404, code: 'NOT_FOUND', message: `No WebSocket endpoint at ${path}` };
    if (this.#closing)
      return { status: 503, code: 'SHUTTING_DOWN', message: 'This replica is shutting down' };
    try {
      return { principal: this.#o.authenticate(req) };
    } catch (err) {
      if (!(err instanceof SignatureError)) {
        return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Unexpected error.' };
      }
      // `reason` tells an operator which end is misconfigured, as on HTTP.
      const code = err.status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
      return { status: err.status, code, message: err.message, reason: err.code };
    }
  }

  /**
   * Closes every socket with 1001 (going away), so each client resubscribes elsewhere, and cuts the ones
   * that have not finished the close handshake within `closeGraceMs`. Refuses new upgrades from the start.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const clients = [...this.#wss.clients];
    const gone = Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(GOING_AWAY, 'Going away');
          }),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      gone,
      new Promise((resolve) => (timer = setTimeout(resolve, this.#o.closeGraceMs ?? 1000))),
    ]);
    clearTimeout(timer);
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  reason?: string;
}

/** An HTTP response on the upgrade socket, as for any refused request, then the socket is gone. */
function refuse(socket: Duplex, { status, code, message, reason }: Refusal): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, ...(reason ? { reason } : {}) } }] });
  const text = STATUS_TEXT[status] ?? 'Error';
  // Destroyed once the response is flushed: an upgrade socket is never reused for HTTP.
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const ONLY_SUBSCRIPTIONS = new GraphQLError(
  'Only subscriptions are served over WebSocket; send queries and mutations as signed POST requests',
  { extensions: { code: 'BAD_REQUEST' } },
);

/** True unless `query` parses to an operation other than a subscription (parse errors are reported later). */
function isSubscription(query: string, operationName: string | null | undefined): boolean {
  try {
    const operation = getOperationAST(parse(query), operationName);
    return !operation || operation.operation === 'subscription';
  } catch {
    return true;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
