/**
 * Where persisted query texts are kept, by hash. The shape of Apollo's `KeyValueCache<string>`, so a store
 * can be handed to Apollo Server's `persistedQueries.cache` as it is.
 */
export interface DocumentStore {
  get(key: string): Promise<string | undefined>;
  /** `ttl` in seconds; null or absent keeps the entry until it is evicted. */
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean>;
}

export interface TieredStoreOptions {
  /** Asked first, and filled from `remote` hits (the in-process store). */
  local: DocumentStore;
  /** The shared store (Redis). Its failures are reported and answered as misses, never thrown. */
  remote: DocumentStore;
  onError?: (error: unknown) => void;
}

/**
 * An in-process store in front of a shared one. A text stored under a hash never changes, so the local
 * copy is always right; the shared store lets every gateway instance answer a hash one of them registered.
 * A dead shared store degrades to the local one: a miss asks the client for the text, it is never an error.
 */
export function createTieredStore(options: TieredStoreOptions): DocumentStore {
  const { local, remote } = options;
  const report = (error: unknown) => options.onError?.(error);
  return {
    async get(key) {
      const hit = await local.get(key);
      if (hit !== undefined) return hit;
      try {
        const value = await remote.get(key);
        if (value !== undefined) await local.set(key, value);
        return value;
      } catch (error) {
        report(error);
        return undefined;
      }
    },
    async set(key, value, setOptions) {
      await local.set(key, value, setOptions);
      try {
        await remote.set(key, value, setOptions);
      } catch (error) {
        report(error);
      }
    },
    async delete(key) {
      await local.delete(key);
      try {
        await remote.delete(key);
      } catch (error) {
        report(error);
      }
      return true;
    },
  };
}
