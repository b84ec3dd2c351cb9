import type { GraphQLError } from 'graphql';

/** One deferred fragment's result: `data` is merged into the response at `path` (2022-08-24 defer spec). */
export interface IncrementalItem {
  data: Record<string, unknown> | null;
  path: readonly (string | number)[];
  label?: string;
  errors?: readonly GraphQLError[];
}

/** A subsequent payload of an incremental response; the last one says `hasNext: false`. */
export interface SubsequentPayload {
  incremental?: readonly IncrementalItem[];
  hasNext: boolean;
}

/** What the executor hands over for the rest of a deferred operation. `return()` cancels it. */
export type IncrementalStream = AsyncIterator<SubsequentPayload> & AsyncIterable<SubsequentPayload>;

/**
 * How the HTTP layer will deliver the rest of the operation, known before execution:
 * - `multipart`: the client accepts multipart/mixed (deferSpec=20220824); each payload is sent as it comes;
 * - `json`: the client accepts only JSON; the stream is drained and merged into one response, so the
 *   executor gains nothing by deferring (it may as well execute the whole operation at once);
 * - `batch`: the operation is part of a batched request (never multipart; merged like `json`).
 */
export type IncrementalDelivery = 'multipart' | 'json' | 'batch';
