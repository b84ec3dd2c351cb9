import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createDb, migrate, seed } from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definition } from '../src/server.ts';

// The process contract the launcher relies on, checked on one service (all mains are the same
// three lines around runSubgraph).
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function start(env: Record<string, string>): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
} {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d));
  child.stderr?.on('data', (d: Buffer) => (err += d));
  return { child, stdout: () => out, stderr: () => err };
}

async function firstLine(read: () => string, child: ChildProcess): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const line = read().split('\n')[0];
    if (read().includes('\n') && line !== undefined) return line;
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no ready line');
}

describe('accounts main', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const db = createDb(database.url);
    await migrate(db, definition);
    await seed(db, definition, { products: 1, users: 3, reviews: 0 });
    await db.close();
  });
  afterAll(() => database?.close());

  it('prints one JSON ready line, serves, and exits 0 on SIGTERM', async () => {
    const proc = start({ DATABASE_URL: database.url, PORT: '0', DB_POOL_MAX: '2' });
    try {
      const ready = JSON.parse(await firstLine(proc.stdout, proc.child)) as {
        ready: boolean;
        service: string;
        url: string;
      };
      expect(ready).toMatchObject({ ready: true, service: 'accounts' });
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      const res = await fetch(ready.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ user(id: "3") { username } }' }),
      });
      expect(await res.json()).toEqual({ data: { user: { username: 'user3' } } });
      proc.child.kill('SIGTERM');
      const [code] = await once(proc.child, 'exit');
      expect(code).toBe(0);
      expect(proc.stdout().trim().split('\n')).toHaveLength(1);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('exits 1 naming DATABASE_URL when it is missing', async () => {
    const proc = start({});
    const [code] = await once(proc.child, 'exit');
    expect(code).toBe(1);
    expect(proc.stderr()).toContain('DATABASE_URL is required');
    expect(proc.stdout()).toBe('');
  });
});
