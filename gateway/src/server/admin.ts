import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from '@tollgate/kit/http';
import type { GatewayConfig } from '../config/index.ts';
import { type Logger, silentLogger } from './types.ts';

/** A GET route: status and body (JSON, or a string with its content type). */
export type Route = (
  req: IncomingMessage,
) => Promise<{ status: number; body: unknown; contentType?: string }>;
export type Routes = Readonly<Record<string, Route>>;

/** What the public port answers on an admin path: where it is served instead. */
export const ADMIN_ELSEWHERE =
  'served on the admin listener (server.adminPort, loopback by default), not on the public port';

/** The admin port when `server.adminPort` is unset: 9090, or any free port when the public one is 0. */
export const DEFAULT_ADMIN_PORT = 9090;

/** The port the admin listener takes, given the public port actually asked for. */
export function adminPortFor(server: Pick<GatewayConfig['server'], 'adminPort'>, publicPort: number): number {
  return server.adminPort ?? (publicPort === 0 ? 0 : DEFAULT_ADMIN_PORT);
}

/** Writes a route's answer. */
export async function sendRoute(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD')
    return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
  const out = await route(req);
  if (out.contentType && typeof out.body === 'string') {
    res.writeHead(out.status, {
      'content-type': out.contentType,
      'content-length': Buffer.byteLength(out.body),
    });
    return void res.end(method === 'HEAD' ? undefined : out.body);
  }
  return sendJson(res, out.status, out.body);
}

/** Answers for the admin paths on the public port: 404, naming where they are. */
export function elsewhere(routes: Routes): Record<string, Route> {
  return Object.fromEntries(
    Object.keys(routes)
      .filter((path) => path !== '/health/live' && path !== '/health/ready')
      .map((path) => [path, async () => ({ status: 404, body: { error: `${path} is ${ADMIN_ELSEWHERE}` } })]),
  );
}

/**
 * Starts `admin` beside a public listener that is already listening, on `adminPortFor(server, publicPort)`;
 * if it cannot listen, `closePublic` runs before the error is thrown, so nothing is left half up.
 */
export async function listenBeside(
  admin: AdminListener,
  server: Pick<GatewayConfig['server'], 'adminPort' | 'adminHost'>,
  publicPort: number,
  closePublic: () => Promise<void>,
): Promise<void> {
  try {
    await admin.listen(adminPortFor(server, publicPort), server.adminHost);
  } catch (error) {
    await closePublic();
    throw error;
  }
}

export interface AdminListener {
  /** Starts listening; resolves to its origin, as `http://127.0.0.1:9090`. */
  listen(port: number, host: string): Promise<string>;
  /** The origin once listening. */
  readonly url: string | undefined;
  /** Stops it and closes its connections (scrapes are short: nothing is drained). */
  close(): Promise<void>;
}

/**
 * The admin listener: plain HTTP on `server.adminHost:adminPort`, GET only, serving the routes it is
 * given (metrics, pool view, detailed readiness). Apart from the public port so that neither the
 * replica URLs nor the readiness details are reachable from where clients are, and so a scrape never
 * competes with admission for a slot.
 */
export function createAdminListener(routes: Routes, options: { logger?: Logger } = {}): AdminListener {
  const logger = options.logger ?? silentLogger;
  const paths = Object.keys(routes).join(', ');
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (!route) return sendJson(res, 404, { error: `no route ${path}; the admin listener serves ${paths}` });
    sendRoute(req, res, route).catch((error: unknown) => {
      logger.error('admin route failed', {
        path,
        error: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) sendJson(res, 500, { error: 'unexpected error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  let url: string | undefined;
  return {
    get url() {
      return url;
    },
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        const failed = (error: NodeJS.ErrnoException) =>
          reject(
            new Error(
              `server.adminPort: cannot listen on ${host}:${port} (${error.code ?? error.message})${
                error.code === 'EADDRINUSE'
                  ? '; another process has it (a local Prometheus also defaults to 9090): set server.adminPort, or GATEWAY_SERVER_ADMIN_PORT, to a free port'
                  : ''
              }`,
            ),
          );
        server.once('error', failed);
        server.listen(port, host, () => {
          server.off('error', failed);
          resolve();
        });
      });
      const { port: bound } = server.address() as AddressInfo;
      const shown =
        host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      url = `http://${shown}:${bound}`;
      return url;
    },
    async close() {
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
