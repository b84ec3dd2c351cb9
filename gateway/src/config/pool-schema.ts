// The pool's and admission's keys of the config schema (schema.ts).
import { z } from 'zod';
// The pool's defaults, written once in the pool. Imported from options.ts, not the folder's index.ts:
// the index pulls in telemetry/, whose tracing.ts imports this folder's config type (an import cycle).
import { POOL_DEFAULTS } from '../pool/index.ts';
import { bool } from './primitives.ts';

// Adaptive attempt timeouts and hedging (pool/adaptive.ts): `withDefaults` false gives the per-subgraph
// form, whose keys are optional so they fall back to the pool-wide values one by one.
export const keyOf =
  (withDefaults: boolean) =>
  <T extends z.ZodTypeAny>(t: T, value: z.infer<T>, text: string) =>
    (withDefaults ? t.default(value) : t.optional()).describe(text);
export const attemptTimeoutSchema = (withDefaults: boolean) => {
  const d = POOL_DEFAULTS.attemptTimeout;
  const key = keyOf(withDefaults);
  return z
    .object({
      enabled: key(
        bool,
        d.enabled,
        "Cut a query's attempt that runs past the subgraph's recent latency and retry it on another replica (within the retry budget and timeoutMs). Mutations are never cut by it.",
      ),
      percentile: key(
        z.coerce.number().min(1).max(100),
        d.percentile,
        "Percentile of the subgraph's recent attempts (the last 256, every replica) the timeout starts from.",
      ),
      factor: key(z.coerce.number().positive(), d.factor, 'The timeout is that percentile × factor.'),
      minMs: key(
        z.coerce.number().int().positive(),
        d.minMs,
        'Floor of the adaptive timeout (ms): a busy event loop must not read as a hung replica.',
      ),
      maxMs: key(z.coerce.number().int().positive(), d.maxMs, 'Ceiling of the adaptive timeout (ms).'),
    })
    .strict();
};
export const hedgingSchema = (withDefaults: boolean) => {
  const d = POOL_DEFAULTS.hedging;
  const key = keyOf(withDefaults);
  return z
    .object({
      enabled: key(
        bool,
        d.enabled,
        "Hedge queries: when a query's first attempt has not answered after the delay, send a second one to another replica; the first answer wins and the other is cancelled. Never for mutations.",
      ),
      delayPercentile: key(
        z.coerce.number().min(1).max(100),
        d.delayPercentile,
        "The hedge goes out after this percentile of the subgraph's recent attempts without an answer.",
      ),
      minDelayMs: key(z.coerce.number().int().min(0), d.minDelayMs, 'Floor of the hedge delay (ms).'),
      maxExtraPercent: key(
        z.coerce.number().min(0).max(100),
        d.maxExtraPercent,
        "Hedge budget: hedges may be at most this percent of the subgraph's query fetches in the last windowMs.",
      ),
      windowMs: key(z.coerce.number().int().positive(), d.windowMs, 'Window of the hedge budget (ms).'),
    })
    .strict();
};

export const circuitBreakerSchema = z
  .object({
    enabled: bool.default(POOL_DEFAULTS.circuitBreaker.enabled).describe('Turn the circuit breaker on.'),
    failureRatePercent: z.coerce
      .number()
      .min(1)
      .max(100)
      .default(POOL_DEFAULTS.circuitBreaker.failureRatePercent)
      .describe('Share of failed fetches in the window that opens the circuit (percent).'),
    minRequests: z.coerce
      .number()
      .int()
      .positive()
      .default(POOL_DEFAULTS.circuitBreaker.minRequests)
      .describe('Fewest fetches in the window before its failure rate counts.'),
    windowMs: z.coerce
      .number()
      .int()
      .min(100)
      .default(POOL_DEFAULTS.circuitBreaker.windowMs)
      .describe('Rolling window of fetch outcomes (ms).'),
    openMs: z.coerce
      .number()
      .int()
      .min(0)
      .default(POOL_DEFAULTS.circuitBreaker.openMs)
      .describe('How long the circuit stays open before trial fetches go through (ms).'),
    halfOpenRequests: z.coerce
      .number()
      .int()
      .positive()
      .default(POOL_DEFAULTS.circuitBreaker.halfOpenRequests)
      .describe('Trial fetches after openMs: all must succeed to close the circuit; one failure reopens it.'),
  })
  .strict();

/** `server.admission`: the adaptive concurrency limit and its queue (gateway/src/admission). */
export const admissionSchema = z
  .object({
    enabled: bool
      .default(true)
      .describe(
        'Adapt the concurrency limit to latency; false keeps it fixed at server.maxConcurrentRequests.',
      ),
    initialLimit: z.coerce
      .number()
      .int()
      .positive()
      .default(100)
      .describe(
        'Concurrency limit at start, before latency has been measured. High enough that a cold gateway does not shed a normal burst (300 concurrent requests over three gateways are served); overload then shrinks it.',
      ),
    minLimit: z.coerce
      .number()
      .int()
      .positive()
      .default(4)
      .describe('The adaptive limit never goes below this.'),
    tolerance: z.coerce
      .number()
      .min(1)
      .default(1.5)
      .describe(
        'How much the recent average latency may exceed the long-term one before the limit shrinks (1.5: by half).',
      ),
    smoothing: z.coerce
      .number()
      .gt(0)
      .max(1)
      .default(0.2)
      .describe('Share of each new estimate taken into the limit per window of samples (0–1).'),
    queueTimeoutMs: z.coerce
      .number()
      .int()
      .min(0)
      .default(50)
      .describe(
        'Longest wait for a slot (ms); a queue that stays non-empty for 100 ms cuts waits to 5 ms. 0: no queue, refuse at once.',
      ),
    maxQueue: z.coerce
      .number()
      .int()
      .min(0)
      .default(256)
      .describe('Requests waiting at most; one more is refused at once.'),
  })
  .strict();
