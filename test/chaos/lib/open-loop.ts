import { Agent, request } from 'node:http';

/** One request of an open-loop run, as the client saw it. */
export interface OpenLoopSample {
  /** ms since the run started, when it was sent. */
  at: number;
  latencyMs: number;
  /** HTTP status; 0 when no response came (reset, refused, client timeout). */
  status: number;
  /** The transport error's code when status is 0. */
  error?: string;
}

export interface OpenLoopOptions {
  url: string;
  body: string;
  /** Requests per second, sent on schedule whatever the answers (an open loop). */
  rate: number;
  durationMs: number;
  /** `keep-alive`: a pool of persistent connections; `new-connection`: one connection per request. */
  connections: 'keep-alive' | 'new-connection';
  /** Keep-alive pool size. @default 512 */
  poolSize?: number;
  /** Requests outstanding at most; one more is counted as not sent (status 0, `CLIENT_BACKLOG`). @default 2000 */
  maxOutstanding?: number;
  /** @default 10000 */
  timeoutMs?: number;
}

/**
 * Sends `rate` requests a second for `durationMs`, on a clock, not after the previous answer: what a
 * flood of independent clients does. Bounded: rate × duration requests at most, `maxOutstanding` at once.
 */
export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopSample[]> {
  const keepAlive = opts.connections === 'keep-alive';
  const agent = keepAlive
    ? new Agent({ keepAlive: true, maxSockets: opts.poolSize ?? 512, maxFreeSockets: opts.poolSize ?? 512 })
    : undefined;
  const total = Math.round((opts.rate * opts.durationMs) / 1000);
  const maxOutstanding = opts.maxOutstanding ?? 2_000;
  const samples: OpenLoopSample[] = [];
  const pending = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  const one = (at: number) =>
    new Promise<void>((resolve) => {
      const done = (status: number, error?: string) => {
        samples.push({ at, latencyMs: performance.now() - t0 - at, status, error });
        resolve();
      };
      const req = request(
        opts.url,
        {
          method: 'POST',
          agent: agent ?? false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(opts.body),
            ...(keepAlive ? {} : { connection: 'close' }),
          },
          timeout: opts.timeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.once('end', () => done(res.statusCode ?? 0));
          res.once('error', (e: NodeJS.ErrnoException) => done(0, e.code ?? 'RESPONSE_ERROR'));
        },
      );
      req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
      req.once('error', (e: NodeJS.ErrnoException) => done(0, e.code ?? 'REQUEST_ERROR'));
      req.end(opts.body);
    });
  while (sent < total) {
    const now = performance.now() - t0;
    const due = Math.min(total, Math.floor((now * opts.rate) / 1000));
    for (; sent < due; sent++) {
      const at = (sent * 1000) / opts.rate;
      if (pending.size >= maxOutstanding) {
        samples.push({ at, latencyMs: 0, status: 0, error: 'CLIENT_BACKLOG' });
        continue;
      }
      const p = one(at).finally(() => pending.delete(p));
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  agent?.destroy();
  return samples;
}

/** The p-th percentile (0–100) of `values`, nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Resident set size of a process in MB, from /proc (Linux); NaN elsewhere. */
export async function rssMb(pid: number | undefined): Promise<number> {
  if (!pid) return Number.NaN;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}
