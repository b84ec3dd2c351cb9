import type { GraphQLFormattedError } from 'graphql';

/** An incremental item whose errors are already formatted for the client (what goes on the wire). */
export interface FormattedIncrementalItem {
  data: Record<string, unknown> | null;
  path: readonly (string | number)[];
  label?: string;
  errors?: readonly GraphQLFormattedError[];
}

/** A subsequent payload as it goes on the wire. */
export interface FormattedSubsequentPayload {
  incremental?: readonly FormattedIncrementalItem[];
  hasNext: boolean;
  extensions?: Record<string, unknown>;
}

/** A single (non-incremental) GraphQL response body. */
export interface FormattedResult {
  errors?: readonly GraphQLFormattedError[];
  data?: Record<string, unknown> | null;
  extensions?: Record<string, unknown>;
  [key: string]: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep merge of `source` into `target` (both fresh JSON): objects key by key, lists element by element
 * (a deferred fragment under a list selects other fields of the same elements), anything else replaced.
 */
function deepMerge(target: unknown, source: unknown): unknown {
  if (isObject(target) && isObject(source)) {
    const out: Record<string, unknown> = { ...target };
    for (const [k, v] of Object.entries(source)) out[k] = k in out ? deepMerge(out[k], v) : v;
    return out;
  }
  if (Array.isArray(target) && Array.isArray(source)) {
    const out = [...target];
    source.forEach((v, i) => {
      out[i] = i < out.length ? deepMerge(out[i], v) : v;
    });
    return out;
  }
  return source;
}

/**
 * `data` with `item.data` deep-merged at `item.path`. A path that does not lead to an object (its parent
 * was nulled by an error in the initial result, or it is simply absent) leaves `data` as it is: nothing to
 * add the fragment's fields to. `item.data === null` (the fragment failed) adds nothing either; its
 * errors say why.
 */
export function mergeAtPath(
  data: Record<string, unknown>,
  path: readonly (string | number)[],
  patch: Record<string, unknown> | null,
): Record<string, unknown> {
  if (patch === null) return data;
  const merge = (node: unknown, depth: number): unknown => {
    if (depth === path.length) return isObject(node) ? deepMerge(node, patch) : node;
    const key = path[depth]!;
    if (Array.isArray(node) && typeof key === 'number' && key >= 0 && key < node.length) {
      const out = [...node];
      out[key] = merge(node[key], depth + 1);
      return out;
    }
    if (isObject(node) && typeof key === 'string' && key in node) {
      return { ...node, [key]: merge(node[key], depth + 1) };
    }
    return node;
  };
  return merge(data, 0) as Record<string, unknown>;
}

/**
 * The whole result a client that does not take multipart gets: every item's data merged at its path,
 * its errors appended (in arrival order), and subsequent extensions shallow-merged into the initial ones.
 * `hasNext` is never in the result.
 */
export function mergeIncremental(
  initial: FormattedResult,
  payloads: readonly FormattedSubsequentPayload[],
): FormattedResult {
  let data = initial.data;
  const errors = [...(initial.errors ?? [])];
  let extensions = initial.extensions;
  for (const payload of payloads) {
    for (const item of payload.incremental ?? []) {
      if (isObject(data)) data = mergeAtPath(data, item.path, item.data);
      if (item.errors?.length) errors.push(...item.errors);
    }
    if (payload.extensions) extensions = { ...extensions, ...payload.extensions };
  }
  const { hasNext: _hasNext, ...rest } = initial;
  return {
    ...rest,
    ...(errors.length ? { errors } : {}),
    data,
    ...(extensions ? { extensions } : {}),
  };
}
