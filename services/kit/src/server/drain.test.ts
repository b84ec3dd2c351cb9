import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpDrain, type HttpDrain } from './drain.ts';

interface Reply {
  status: number;
  connection: string | undefined;
  body: string;
}

// A server whose /slow answers after `?ms=` milliseconds, everything else at once.
function start(): Promise<{ server: Server; drain: HttpDrain; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ms = Number(url.searchParams.get('ms') ?? 0);
    setTimeout(() => res.end(url.pathname), ms);
  });
  const drain = createHttpDrain(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, drain, port: (server.address() as AddressInfo).port }),
    ),
  );
}

function get(port: number, path: string, agent: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const errorCode = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: NodeJS.ErrnoException) => e.code,
  );

describe('createHttpDrain', () => {
  const agents: Agent[] = [];
  const keepAlive = () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  };
  afterEach(() => {
    for (const a of agents.splice(0)) a.destroy();
  });

  it('lets a request in flight finish, tells its client the connection ends, and refuses new connections', async () => {
    const { drain, port } = await start();
    const agent = keepAlive();
    const slow = get(port, '/slow?ms=300', agent);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    const closed = drain.close({ graceMs: 5_000 });
    expect(await slow).toEqual({ status: 200, connection: 'close', body: '/slow' });
    expect(await errorCode(get(port, '/', new Agent()))).toBe('ECONNREFUSED');
    await closed;
    // as long as the slowest request, not the idle wait or the grace period
    expect(Date.now() - t0).toBeLessThan(900);
  });

  it('answers a request sent on an idle keep-alive connection after the drain began, instead of resetting it', async () => {
    const { drain, port } = await start();
    const agent = keepAlive();
    expect((await get(port, '/first', agent)).connection).toBe('keep-alive');
    const closed = drain.close({ graceMs: 5_000, idleMs: 500 });
    // the agent reuses its one idle socket: http.Server#close would have destroyed it under the request
    expect(await get(port, '/second', agent)).toEqual({ status: 200, connection: 'close', body: '/second' });
    await closed;
  });

  it('closes a connection nobody uses after idleMs', async () => {
    const { drain, port } = await start();
    await get(port, '/', keepAlive());
    const t0 = Date.now();
    await drain.close({ graceMs: 5_000, idleMs: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it('cuts what is still running at the grace deadline', async () => {
    const { drain, port } = await start();
    const stuck = errorCode(get(port, '/slow?ms=5000', keepAlive()));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await drain.close({ graceMs: 300 });
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(await stuck).toBe('ECONNRESET');
  });
});
