import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

export interface HttpDrainOptions {
  /** Longest wait for the requests in flight; then every connection is closed. */
  graceMs: number;
  /**
   * Once draining, a keep-alive connection with no request in flight is closed when it has carried
   * nothing for this long. @default 2000
   */
  idleMs?: number;
}

export interface HttpDrain {
  /** Stops accepting, lets requests in flight finish, closes every connection; resolves when all are gone. */
  close(options: HttpDrainOptions): Promise<void>;
}

interface Activity {
  /** Responses not yet finished on this connection. */
  open: number;
  /** When it last started or finished a request (ms). */
  last: number;
}

/**
 * Graceful close of a keep-alive HTTP server that cuts no request. `http.Server#close()` destroys every
 * idle keep-alive socket at once, and a socket the server sees idle may hold a request the client
 * already sent but the busy event loop has not read yet: its client gets a reset for a request that
 * might have run. So the listener closes (new connections are refused: the client knows nothing was
 * sent), each response from then on says `Connection: close` (the client sends nothing more on that
 * connection, and the server ends it after the response), and only connections that have carried
 * nothing for `idleMs` are closed by the server, right after the event loop has read what arrived.
 * Leave this order intact.
 *
 * The gateway drains with it too (`@tollgate/kit/drain`), over HTTP or HTTPS.
 */
export function createHttpDrain(server: Server): HttpDrain {
  let draining = false;
  const sockets = new Map<Socket, Activity>();
  const responses = new Set<ServerResponse>();
  // An HTTPS server's requests arrive on the TLS socket, which 'secureConnection' hands over; its
  // 'connection' is the TCP socket beneath, never a request's `req.socket`. Tracking that one would leave
  // every connection looking idle, and the drain would cut requests in flight.
  const connected = server instanceof TlsServer ? 'secureConnection' : 'connection';
  server.on(connected, (socket: Socket) => {
    sockets.set(socket, { open: 0, last: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  server.prependListener('request', (req, res: ServerResponse) => {
    const activity = sockets.get(req.socket);
    if (activity) {
      activity.open++;
      activity.last = Date.now();
    }
    responses.add(res);
    res.once('close', () => {
      responses.delete(res);
      if (activity) {
        activity.open--;
        activity.last = Date.now();
      }
    });
    if (draining) res.setHeader('connection', 'close');
  });
  const closeIdle = (idleMs: number) => {
    const now = Date.now();
    for (const [socket, activity] of sockets) {
      if (activity.open === 0 && now - activity.last >= idleMs) socket.destroy();
    }
  };
  return {
    async close({ graceMs, idleMs = 2_000 }) {
      draining = true;
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
      // net.Server#close, not http.Server#close: stop listening without destroying idle sockets.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      // In the check phase, right after the poll phase has read (and so marked busy) every socket with
      // a request waiting, so that a request already sent is answered rather than reset.
      const sweeper = setInterval(() => setImmediate(() => closeIdle(Math.min(idleMs, graceMs))), 50);
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (deadline = setTimeout(resolve, graceMs)))]);
      clearInterval(sweeper);
      clearTimeout(deadline);
      server.closeAllConnections();
    },
  };
}
