import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { poolAdminView, type ReplicaPool } from '../pool/index.ts';
import type { HttpHandlerOptions } from './http-handler.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { GatewayContext, ReadinessReport } from './types.ts';

/** The admin surface: with a token configured, that bearer token; without one, loopback clients only. */
export function adminAllowed(req: IncomingMessage, token: string | undefined): boolean {
  if (token) {
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
  const from = req.socket.remoteAddress ?? '';
  return from === '127.0.0.1' || from === '::1' || from === '::ffff:127.0.0.1';
}

export interface RoutesOptions {
  metrics: Pick<GatewayMetrics, 'scrape' | 'contentType'>;
  pools: ReadonlyMap<string, ReplicaPool>;
  readiness: () => Promise<ReadinessReport>;
  /** `server.adminToken`: the bearer token of /admin/*. */
  adminToken: string | undefined;
}

/** GET routes beside /graphql: liveness, readiness, Prometheus metrics and the pool admin view. */
export function createRoutes(options: RoutesOptions): HttpHandlerOptions<GatewayContext>['routes'] {
  const { metrics, pools } = options;
  return {
    '/health/live': async () => ({ status: 200, body: { status: 'live' } }),
    '/metrics': async () => ({
      status: 200,
      body: await metrics.scrape(),
      contentType: metrics.contentType,
    }),
    '/admin/pool': async (req) => {
      if (!adminAllowed(req, options.adminToken))
        return {
          status: 403,
          body: { error: 'admin routes need the admin token (server.adminToken) or a loopback client' },
        };
      return { status: 200, body: poolAdminView(pools) };
    },
    '/health/ready': async () => {
      const report = await options.readiness();
      return {
        status: report.ready ? 200 : 503,
        body: { status: report.state, ...report },
      };
    },
  };
}
