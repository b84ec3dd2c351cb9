import { describe, expect, it } from 'vitest';
import { ADMIN_ELSEWHERE, adminPortFor, DEFAULT_ADMIN_PORT, elsewhere } from './admin.ts';

describe('adminPortFor', () => {
  it('is server.adminPort when set, whatever the public port', () => {
    expect(adminPortFor({ adminPort: 9191 }, 4000)).toBe(9191);
    expect(adminPortFor({ adminPort: 0 }, 4000)).toBe(0);
    expect(adminPortFor({ adminPort: 9191 }, 0)).toBe(9191);
  });
  it('defaults to 9090, or to any free port when the public port is any free port', () => {
    expect(adminPortFor({}, 4000)).toBe(DEFAULT_ADMIN_PORT);
    expect(DEFAULT_ADMIN_PORT).toBe(9090);
    expect(adminPortFor({}, 0)).toBe(0);
  });
});

describe('elsewhere', () => {
  it('answers every admin path but the probes with a 404 that names the admin listener', async () => {
    const route = async () => ({ status: 200, body: 'secret' });
    const routes = elsewhere({
      '/health/live': route,
      '/health/ready': route,
      '/metrics': route,
      '/admin/pool': route,
    });
    expect(Object.keys(routes).sort()).toEqual(['/admin/pool', '/metrics']);
    const out = await routes['/metrics']!({} as never);
    expect(out).toEqual({ status: 404, body: { error: `/metrics is ${ADMIN_ELSEWHERE}` } });
    expect(JSON.stringify(out)).toContain('server.adminPort');
  });
});
