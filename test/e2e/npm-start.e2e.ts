import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listServices } from '@tollgate/kit';
import { describe, expect, it } from 'vitest';
import { gql, SAMPLE_QUERY } from '../fixtures/sample-query.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every process under `pid`, with its command line (named in a failure). */
function descendants(pid: number): Map<number, string> {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const [child, parent, ...args] = l.trim().split(/\s+/);
      return [Number(child), Number(parent), args.join(' ')] as const;
    });
  const out = new Map<number, string>();
  const walk = (p: number) => {
    for (const [child, parent, args] of table) {
      if (parent === p) {
        out.set(child, args);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// What a newcomer does on a machine without PostgreSQL or Redis: `npm start`, query, Ctrl-C.
describe('npm start on embedded defaults', () => {
  it('prints one ready line, serves the sample query, and stops every process on SIGTERM', async () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      PORT: '0',
      TOLLGATE_DATA_DIR: 'memory',
    };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    const startAt = Date.now();
    const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    npm.stderr.on('data', (d: Buffer) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      npm.stdout.on('data', (d: Buffer) => {
        stdout += d;
        const m = /Tollgate ready at (\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      npm.once('exit', (code) => reject(new Error(`npm start exited ${code}: ${stderr}`)));
    });
    const readyAt = Date.now();
    expect(stdout.match(/ready/gi)?.length).toBe(1);
    // every service under services/ (the four samples, and any the checkout scaffolded)
    const services = listServices().length;
    expect(stdout).toContain(`${services} subgraphs × 2 replicas, embedded PostgreSQL`);

    const { status, body } = await gql(url, SAMPLE_QUERY, { first: 5 });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect((body.data!.topProducts as unknown[]).length).toBe(5);

    const processes = descendants(npm.pid!);
    const pids = [...processes.keys()];
    expect(pids.length).toBeGreaterThanOrEqual(2 + 2 * services); // launcher, database, replicas, gateway
    // compiled JavaScript under plain `node`, as in production: no TypeScript loader in any process
    const node = [...processes].filter(([, args]) => /(^|\/)node\s/.test(args));
    expect(node.length).toBeGreaterThanOrEqual(2 + 2 * services);
    expect([...processes.values()].filter((args) => /tsx/.test(args))).toEqual([]);
    for (const [, args] of node) expect(args, args).toMatch(/\.js(\s|$)/);
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      npm.once('exit', (c, s) => resolve([c, s])),
    );
    const stopAt = Date.now();
    npm.kill('SIGTERM');
    // npm itself re-raises the signal after forwarding it; the launcher under it exits 0.
    const [code, signal] = await exited;
    expect(code === 0 || signal === 'SIGTERM', `code ${code} signal ${signal}`).toBe(true);
    // each of the launcher's three phases (gateways, replicas, database) sends SIGKILL after 10 s
    const deadline = Date.now() + 35_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    console.log(`stack started in ${readyAt - startAt} ms, stopped in ${Date.now() - stopAt} ms`);
    expect(pids.filter(alive).map((pid) => `${pid} ${processes.get(pid)}`)).toEqual([]);
  });
});
