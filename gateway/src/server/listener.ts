import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHttpDrain, type HttpDrain } from '@tollgate/kit/drain';
import type { GatewayConfig } from '../config/index.ts';
import {
  createTlsReloader,
  readTlsMaterial,
  serverSecureContext,
  serverTlsOptions,
  type TlsReloader,
} from '../tls/index.ts';
import { type Logger, silentLogger } from './types.ts';

export interface ListenerHandlers {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** An HTTP/1.1 Upgrade (a WebSocket). Without it every upgrade is refused (the socket destroyed). */
  onUpgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface ListenerOptions {
  logger?: Logger;
  /** How often the `server.tls` files are looked at for a rotation (ms). @default 1000 */
  tlsPollMs?: number;
}

export interface Listener {
  /** `https` with `server.tls`, else `http`. */
  readonly scheme: 'http' | 'https';
  /** The node server, for what guards its connections (admission's connection cap). */
  readonly server: Server;
  /** Starts listening; resolves to the origin, as `https://localhost:4000` (no path). */
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), closes every connection. */
  close(graceMs: number): Promise<void>;
}

/** The `server` keys that bound what a slow or idle client may hold. */
export type ClientLimits = Pick<
  GatewayConfig['server'],
  'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs' | 'maxHeaderBytes'
>;

/**
 * node's http.Server options for the slow-client bounds. node checks the headers and request timeouts
 * only every `connectionsCheckingInterval` (30 s by default), so a 10 s headers timeout would cut a
 * trickling client after up to 40 s: the check runs at a quarter of the shorter timeout (50 ms to 1 s).
 * On expiry node answers 408 and closes the connection; a request wholly received is no longer timed, so
 * a long response or stream is not cut.
 */
export function clientLimitOptions(limits: Partial<ClientLimits>) {
  const { headersTimeoutMs: headers, requestTimeoutMs: request } = limits;
  const timeouts = [headers, request].filter((t): t is number => t !== undefined && t > 0);
  const options: {
    headersTimeout?: number;
    requestTimeout?: number;
    keepAliveTimeout?: number;
    maxHeaderSize?: number;
    connectionsCheckingInterval?: number;
  } = {};
  // 0 turns either off, in node as in the config
  if (headers !== undefined) options.headersTimeout = headers;
  if (request !== undefined) options.requestTimeout = request;
  if (limits.keepAliveTimeoutMs !== undefined) options.keepAliveTimeout = limits.keepAliveTimeoutMs;
  if (limits.maxHeaderBytes !== undefined) options.maxHeaderSize = limits.maxHeaderBytes;
  if (timeouts.length)
    options.connectionsCheckingInterval = Math.max(
      50,
      Math.min(1_000, Math.floor(Math.min(...timeouts) / 4)),
    );
  return options;
}

/**
 * The gateway's socket: plain HTTP, or HTTPS (HTTP/1.1 only) with `server.tls`, whose certificate files
 * are re-read on change and put in service for new connections without a restart. Reads and checks the
 * TLS files at once, so a bad path stops start-up (a ConfigError naming the key) before anything listens.
 * Several handlers (graphs) can share one listener by routing in `onRequest`.
 */
export function createListener(
  server: Pick<GatewayConfig['server'], 'tls'> & Partial<ClientLimits>,
  handlers: ListenerHandlers,
  options: ListenerOptions = {},
): Listener {
  const logger = options.logger ?? silentLogger;
  const { tls } = server;
  const material = tls && readTlsMaterial(tls, 'server.tls');
  const onRequest = (req: IncomingMessage, res: ServerResponse) => handlers.onRequest(req, res);
  const limits = clientLimitOptions(server);
  const https =
    tls && material
      ? createHttpsServer({ ...serverTlsOptions(tls, material), ...limits }, onRequest)
      : undefined;
  const http: Server = https ?? createHttpServer(limits, onRequest);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (handlers.onUpgrade) handlers.onUpgrade(req, socket, head);
    else socket.destroy();
  });
  const reloader: TlsReloader | undefined =
    tls && material && https
      ? createTlsReloader({
          files: tls,
          at: 'server.tls',
          initial: material,
          intervalMs: options.tlsPollMs,
          // For new connections only: those already open keep the context they were accepted with.
          apply: (next) => https.setSecureContext(serverSecureContext(tls, next)),
          log: (level, message, fields) => logger[level](message, fields),
        })
      : undefined;
  const drain: HttpDrain = createHttpDrain(http);
  const scheme = tls ? 'https' : 'http';

  return {
    scheme,
    server: http,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      reloader?.start();
      const address = http.address() as AddressInfo;
      const shown =
        host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      return `${scheme}://${shown}:${address.port}`;
    },
    async close(graceMs) {
      reloader?.stop();
      // Takes as long as the slowest request in flight, not the whole grace period; cuts none (drain.ts).
      await drain.close({ graceMs });
    },
  };
}
