import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { poolAdminView, type ReplicaPool } from '../pool/index.ts';
import { elsewhere, type Route, type Routes } from './admin.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { ReadinessReport } from './types.ts';

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

/** The readiness answer: its status code, and either the whole report or only its state. */
export async function readinessRoute(
  report: Promise<Pick<ReadinessReport, 'ready' | 'state'> & object>,
  detailed: boolean,
): Promise<{ status: number; body: unknown }> {
  const r = await report;
  return { status: r.ready ? 200 : 503, body: detailed ? { status: r.state, ...r } : { status: r.state } };
}

export const live: Route = async () => ({ status: 200, body: { status: 'live' } });

export const ADMIN_FORBIDDEN = {
  status: 403,
  body: { error: 'admin routes need the admin token (server.adminToken) or a loopback client' },
};

/**
 * The GET routes beside /graphql. `public`: liveness and readiness (its state only), and a 404 naming
 * the admin listener on the admin paths. `admin` (the admin listener): the same probes with the whole
 * readiness report, Prometheus metrics and the pool admin view.
 */
export function createRoutes(options: RoutesOptions): { public: Routes; admin: Routes } {
  const { metrics, pools } = options;
  const admin: Routes = {
    '/health/live': live,
    '/health/ready': () => readinessRoute(options.readiness(), true),
    '/metrics': async () => ({
      status: 200,
      body: await metrics.scrape(),
      contentType: metrics.contentType,
    }),
    '/admin/pool': async (req) => {
      if (!adminAllowed(req, options.adminToken)) return ADMIN_FORBIDDEN;
      return { status: 200, body: poolAdminView(pools) };
    },
  };
  return {
    admin,
    public: {
      ...elsewhere(admin),
      '/health/live': live,
      '/health/ready': () => readinessRoute(options.readiness(), false),
    },
  };
}
