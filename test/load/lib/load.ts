// One load run with autocannon, in this process (on the load CPU), with response checks that stay cheap:
// every response is scanned for an `"errors"` key, every Nth is parsed and its `data` compared with the
// reference bytes. Status codes come from autocannon (non-2xx, socket errors, timeouts).
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

export interface LoadRequest {
  /** JSON request body. */
  body: string;
  /** JSON.stringify(data) every response must have; undefined: only the error scan. */
  expectedData?: string;
}

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  /** Sent in turn on every connection (a mix), or one request for a single-query run. */
  requests: readonly LoadRequest[];
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationSec?: number;
  amount?: number;
  /** Parse and compare one response in this many. @default 25 */
  sampleEvery?: number;
}

export interface LoadResult {
  /** Responses received in the window. */
  completed: number;
  /** Requests written, including those still in flight when the window closed. */
  sent: number;
  durationSec: number;
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  statusCodes: Record<string, number>;
  socketErrors: number;
  timeouts: number;
  /** Responses whose body has an `errors` key (every response is scanned). */
  errorBodies: number;
  /** Responses parsed and compared with the expected data, and how many of those differed. */
  sampled: number;
  sampleMismatches: number;
  /** The first bad body seen, cut to 500 characters. */
  firstBadBody?: string;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const sampleEvery = options.sampleEvery ?? 25;
  let seen = 0;
  let errorBodies = 0;
  let sampled = 0;
  let sampleMismatches = 0;
  let firstBadBody: string | undefined;
  const bad = (body: string) => {
    firstBadBody ??= body.slice(0, 500);
  };
  const check = (expected: string | undefined) => (status: number, body: string) => {
    seen++;
    if (status < 200 || status >= 300) return bad(body);
    // `"errors":` never occurs in the bench data, so a substring scan is an exact test and costs
    // far less than parsing 57 KB on the CPU the subgraphs need.
    if (body.includes('"errors":')) {
      errorBodies++;
      return bad(body);
    }
    if (expected === undefined || seen % sampleEvery !== 0) return;
    sampled++;
    let data: string | undefined;
    try {
      data = JSON.stringify((JSON.parse(body) as { data?: unknown }).data);
    } catch {
      data = undefined;
    }
    if (data !== expected) {
      sampleMismatches++;
      bad(body);
    }
  };
  const requests: AutocannonRequest[] = options.requests.map((r) => ({
    method: 'POST',
    headers: options.headers,
    body: r.body,
    onResponse: check(r.expectedData),
  }));
  const result: AutocannonResult = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationSec ?? 10 }),
    // Slow targets under the heavy query answer in seconds; a timeout would be a failed request, not a
    // slow one, so give them room (autocannon's default is 10 s).
    timeout: 60,
    requests,
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  return {
    completed: result.requests.total,
    sent: result.requests.sent ?? result.requests.total,
    durationSec: result.duration,
    rps: result.requests.total / result.duration,
    latencyMs: {
      mean: result.latency.mean,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    non2xx: result.non2xx,
    statusCodes,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    errorBodies,
    sampled,
    sampleMismatches,
    ...(firstBadBody === undefined ? {} : { firstBadBody }),
  };
}
