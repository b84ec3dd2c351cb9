import type { RateLimitStore } from './store.ts';

/**
 * A view of a shared store whose keys all start with `namespace`: several graphs of one gateway draw on
 * one store (one Redis connection, one in-process map) without ever sharing a bucket. Closing the view
 * leaves the shared store open: whoever created that closes it.
 */
export function createNamespacedStore(store: RateLimitStore, namespace: string): RateLimitStore {
  if (!namespace) throw new TypeError('a namespaced rate-limit store needs a non-empty namespace');
  return {
    take: (key, cost, policy) => store.take(`${namespace}${key}`, cost, policy),
    refund: (key, amount, policy) => store.refund(`${namespace}${key}`, amount, policy),
    close: async () => {},
  };
}
