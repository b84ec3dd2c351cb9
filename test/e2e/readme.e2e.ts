import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The README's first sections, followed as a newcomer would: `npm start`, the sample query (20 times in
// a row), the token command the ready line prints, the README's addReview mutation with it, the sample
// query again, and the standalone gateway on the supergraph npm start wrote, signed with its secret. The
// request bodies and the standalone command are read from the README's code blocks, so this test breaks
// when they change in a way that no longer works.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The ```sh blocks of the README section that starts with `heading`. */
function shBlocks(heading: string): string[] {
  const start = README.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section ${heading}`);
  const next = README.indexOf('\n## ', start + heading.length + 2);
  const section = README.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** The JSON body of a `curl … -d '<body>'` command in a README block. */
function curlBody(block: string): { query: string } {
  const m = /-d '([\s\S]*?)'/.exec(block);
  if (!m) throw new Error(`no -d '…' body in\n${block}`);
  return JSON.parse(m[1]!) as { query: string };
}

const [sampleBlock, mutationBlock] = shBlocks('## A sample query');
const SAMPLE = curlBody(sampleBlock!);
const MUTATION = curlBody(mutationBlock!);
const STANDALONE = shBlocks('## The gateway alone').find((b) => b.includes('TOLLGATE_SIGNING_SECRET'));

interface Answer {
  status: number;
  body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** Spawns `command` in its own process group, collecting its output. */
function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; out: () => string } {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return { child, out: () => out };
}

/** Resolves with the first match of `pattern` in the child's output; rejects if it exits first. */
function waitFor(
  p: { child: ChildProcess; out: () => string },
  pattern: RegExp,
  ms: number,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms:\n${p.out()}`)), ms);
    const check = () => {
      const m = pattern.exec(p.out());
      if (m) done(undefined, m);
    };
    const onExit = (code: number | null) =>
      done(new Error(`exited (${code}) before ${pattern}:\n${p.out()}`));
    const done = (error?: Error, m?: RegExpExecArray) => {
      clearTimeout(timer);
      p.child.stdout!.off('data', check);
      p.child.stderr!.off('data', check);
      p.child.off('exit', onExit);
      if (error) reject(error);
      else resolve(m!);
    };
    p.child.stdout!.on('data', check);
    p.child.stderr!.on('data', check);
    p.child.once('exit', onExit);
    check();
  });
}

/** Stops a process group: SIGTERM, then SIGKILL after `graceMs`. */
async function stopGroup(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // a straggler of the group (a replica the launcher had not reaped yet)
  kill('SIGKILL');
}

describe('the README, followed literally', () => {
  const running: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(running.map((c) => stopGroup(c)));
  });

  it('npm start, 20 sample queries, the token, the mutation, the standalone gateway', {
    timeout: 150_000,
  }, async () => {
    expect(SAMPLE.query).toContain('topProducts');
    expect(MUTATION.query).toContain('addReview');
    expect(STANDALONE, 'the standalone example with the signing secret').toBeDefined();

    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', TOLLGATE_DATA_DIR: 'memory' };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    const stack = start('npm', ['start', '--silent'], env);
    running.push(stack.child);
    const url = (await waitFor(stack, /Tollgate ready at (\S+)/, 120_000))[1]!;
    // the hint printed on the next line
    const hint = (await waitFor(stack, /Get a token: (npm run token -- [^,]+),/, 5_000))[1]!;

    // The sample query, 20 times in a row: the dev plan has room for it.
    for (let i = 0; i < 20; i++) {
      const { status, body } = await post(url, SAMPLE);
      expect(status, `run ${i + 1}: ${JSON.stringify(body.errors)}`).toBe(200);
      expect(body.errors).toBeUndefined();
      expect((body.data!.topProducts as unknown[]).length).toBe(5);
    }

    // The token command exactly as the ready line prints it.
    const [npm, ...args] = hint.trim().split(/\s+/);
    expect(npm).toBe('npm');
    const token = start('npm', args, { ...process.env });
    running.push(token.child);
    await new Promise((resolve) => token.child.once('exit', resolve));
    expect(token.child.exitCode, token.out()).toBe(0);
    expect(token.out()).not.toMatch(/warning/);
    const jwt = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/m.exec(token.out())?.[0];
    expect(jwt, token.out()).toBeDefined();

    // A user the seed does not have gets a token and a warning on stderr (the token alone on stdout).
    const unknown = start('npm', ['run', '-s', 'token', '--', '--sub', 'alice'], { ...process.env });
    running.push(unknown.child);
    await new Promise((resolve) => unknown.child.once('exit', resolve));
    expect(unknown.child.exitCode).toBe(0);
    expect(unknown.out()).toMatch(/warning: --sub alice is not a seeded account/);

    // The README's mutation with it: a review by a user that exists.
    const added = await post(url, MUTATION, { authorization: `Bearer ${jwt}` });
    expect(added.body.errors, JSON.stringify(added.body)).toBeUndefined();
    const review = added.body.data!.addReview as { id: string; author: { username: string } | null };
    expect(review.author?.username).toMatch(/^user\d+$/);

    // The headline query still answers data, with the new review in it.
    const after = await post(url, SAMPLE);
    expect(after.body.errors).toBeUndefined();
    const reviewBody = /body: \\?"([^"\\]+)\\?"/.exec(MUTATION.query)?.[1];
    expect(reviewBody).toBeDefined();
    expect(JSON.stringify(after.body.data)).toContain(reviewBody);

    // The standalone gateway, as the README runs it: the supergraph file and the secret from the files
    // it names, on a free port, in front of the stack's replicas.
    const secretFile = /TOLLGATE_SIGNING_SECRET=\$\(cat (\S+)\)/.exec(STANDALONE!)?.[1];
    const supergraphFile = /--supergraph (\S+)/.exec(STANDALONE!)?.[1];
    expect(secretFile).toBeDefined();
    expect(supergraphFile).toBeDefined();
    const secret = readFileSync(join(ROOT, secretFile!), 'utf8').trim();
    const gatewayEnv: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_SIGNING_SECRET: secret };
    delete gatewayEnv.PORT;
    const gateway = start(
      process.execPath,
      [
        join(ROOT, 'gateway', 'bin', 'tollgate.js'),
        '--supergraph',
        join(ROOT, supergraphFile!),
        '--port',
        '0',
      ],
      gatewayEnv,
    );
    running.push(gateway.child);
    const gatewayUrl = (await waitFor(gateway, /gateway ready at (\S+)/, 30_000))[1]!;
    const alone = await post(gatewayUrl, SAMPLE);
    expect(alone.status, JSON.stringify(alone.body)).toBe(200);
    expect(alone.body.errors).toBeUndefined();
    expect(alone.body.data).toEqual(after.body.data);
  });
});
