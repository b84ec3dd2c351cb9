import { Agent, fetch } from 'undici';
import { sleep } from './processes.ts';

// Keep-alive for first attempts, as a real client pools its connections. A retry after a cut connection
// goes on a fresh one: behind a layer-4 balancer every pooled connection is pinned to one gateway, and
// another pooled connection to the gateway that just died can fail the same way before the client has
// seen it close (browsers likewise retry an idempotent request on a new connection).
const pooled = new Agent();

/** One GraphQL operation a load worker sends. */
export interface Operation {
  /** Groups samples in the report, e.g. `query` or `mutation`. */
  kind: string;
  query: string;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Never sent twice once any byte of it may have reached a gateway. */
  mutation: boolean;
  /** Finds the operation's effect afterwards (the body of the review a mutation writes). */
  id?: string;
}

/** What one attempt at a gateway ended with, as the client saw it. */
export interface Attempt {
  url: string;
  at: number;
  /**
   * `response`: an HTTP response came back whole (any status). `refused`: no connection was made, so
   * nothing was sent. `cut`: the connection failed after the request may have been sent (a reset,
   * the socket closed before the whole response, a client timeout).
   */
  outcome: 'response' | 'refused' | 'cut';
  /** The HTTP status (and the first error code), or the transport error's code (ECONNREFUSED, UND_ERR_SOCKET…). */
  detail: string;
}

/** What one operation ended with, after the client's retries. */
export interface Sample {
  kind: string;
  id?: string;
  /** ms since the load started. */
  startedAt: number;
  latencyMs: number;
  /** HTTP status of the final attempt; undefined when it got no response. */
  status: number | undefined;
  /** `OK`, else the first error's `extensions.code`, else the transport error's code. */
  code: string;
  ok: boolean;
  /** Data came back alongside errors. */
  partial: boolean;
  /** The first error's message, for a failed operation. */
  message?: string;
  attempts: Attempt[];
}

export interface LoadOptions {
  /** Gateway URLs; a retrying client moves to the next one after a failed attempt. */
  urls: readonly string[];
  durationMs: number;
  /** The load goes on at least this long after the script is done, to show the recovery. @default 0 */
  recoveryMs?: number;
  /** Concurrent workers, each sending one operation at a time. */
  concurrency: number;
  next(seq: number): Operation;
  /** Pause between a worker's operations, so the load does not saturate a small machine. @default 0 */
  thinkMs?: number;
  /**
   * Attempts per operation, the first included. A retry goes to the next URL after a refused connection
   * (any operation) or, for a query only, after a cut connection or a 502/503/504. @default 1
   */
  attempts?: number;
  /** @default 15000 */
  timeoutMs?: number;
}

/**
 * A closed loop of `concurrency` workers sending operations for `durationMs` (and `recoveryMs` past the
 * end of `script`), while `script` (the fault) runs beside it with a clock of ms since the start.
 * Resolves with every sample once both are done.
 */
export async function runLoad(
  opts: LoadOptions,
  script: (elapsed: () => number) => Promise<void> = async () => {},
): Promise<Sample[]> {
  const t0 = Date.now();
  const elapsed = () => Date.now() - t0;
  const samples: Sample[] = [];
  let seq = 0;
  let rr = 0;
  let until = Number.POSITIVE_INFINITY;
  const fault = script(elapsed).finally(() => {
    until = Math.max(opts.durationMs, elapsed() + (opts.recoveryMs ?? 0));
  });
  const worker = async () => {
    while (elapsed() < until) {
      const op = opts.next(seq++);
      samples.push(await send(op, opts, rr++, elapsed));
      if (opts.thinkMs) await sleep(opts.thinkMs);
    }
  };
  await Promise.all([fault, ...Array.from({ length: opts.concurrency }, worker)]);
  return samples;
}

async function send(op: Operation, opts: LoadOptions, start: number, elapsed: () => number): Promise<Sample> {
  const startedAt = elapsed();
  const attempts: Attempt[] = [];
  const maxAttempts = opts.attempts ?? 1;
  for (let i = 0; ; i++) {
    const url = opts.urls[(start + i) % opts.urls.length]!;
    const at = elapsed();
    let res: Awaited<ReturnType<typeof fetch>>;
    let text: string;
    const fresh = attempts.at(-1)?.outcome === 'cut' ? new Agent({ connections: 1 }) : undefined;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...op.headers },
        body: JSON.stringify({ query: op.query, variables: op.variables }),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
        dispatcher: fresh ?? pooled,
      });
      text = await res.text();
    } catch (error) {
      void fresh?.destroy().catch(() => {});
      const detail = transportCode(error);
      const outcome = detail === 'ECONNREFUSED' ? 'refused' : 'cut';
      attempts.push({ url, at, outcome, detail });
      if (i + 1 < maxAttempts && (outcome === 'refused' || !op.mutation)) continue;
      return {
        kind: op.kind,
        id: op.id,
        startedAt,
        latencyMs: elapsed() - startedAt,
        status: undefined,
        code: detail,
        ok: false,
        partial: false,
        message:
          error instanceof Error
            ? String((error.cause as Error | undefined)?.message ?? error.message)
            : undefined,
        attempts,
      };
    }
    void fresh?.close().catch(() => {});
    const body = parseBody(text);
    const code = body.errors?.[0]?.extensions?.code;
    const detail =
      res.status === 200 || typeof code !== 'string' ? String(res.status) : `${res.status} ${code}`;
    attempts.push({ url, at, outcome: 'response', detail });
    if (i + 1 < maxAttempts && !op.mutation && [502, 503, 504].includes(res.status)) continue;
    const ok = res.status === 200 && !body.errors?.length && body.data != null;
    return {
      kind: op.kind,
      id: op.id,
      startedAt,
      latencyMs: elapsed() - startedAt,
      status: res.status,
      code: ok ? 'OK' : typeof code === 'string' ? code : `HTTP_${res.status}`,
      ok,
      partial: !ok && body.data != null && Object.values(body.data).some((v) => v !== null),
      message: ok ? undefined : body.errors?.[0]?.message,
      attempts,
    };
  }
}

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: unknown } }[];
}

function parseBody(text: string): Body {
  try {
    return JSON.parse(text) as Body;
  } catch {
    return {};
  }
}

/** The most specific code a failed fetch carries: `cause.code` (ECONNREFUSED, UND_ERR_SOCKET…). */
function transportCode(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'CLIENT_TIMEOUT';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'FETCH_FAILED';
}
