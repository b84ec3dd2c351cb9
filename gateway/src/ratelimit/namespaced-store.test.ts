import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memory-store.ts';
import { createNamespacedStore } from './namespaced-store.ts';

const policy = { capacity: 10, restoreRate: 0.001 };

describe('namespaced store', () => {
  it('keeps the buckets of two namespaces apart over one store, and shares them within one', async () => {
    const shared = createMemoryStore({ now: () => 0 });
    const a = createNamespacedStore(shared, 'graph:a:');
    const b = createNamespacedStore(shared, 'graph:b:');
    expect((await a.take('user:alice', 10, policy)).allowed).toBe(true);
    expect((await a.take('user:alice', 1, policy)).allowed).toBe(false);
    // the same principal on the other graph still has its whole budget
    expect((await b.take('user:alice', 10, policy)).allowed).toBe(true);
    // a second view of namespace a sees a's spent bucket
    const again = createNamespacedStore(shared, 'graph:a:');
    expect((await again.take('user:alice', 1, policy)).allowed).toBe(false);
    await a.refund('user:alice', 5, policy);
    expect((await again.take('user:alice', 5, policy)).allowed).toBe(true);
    expect(shared.size).toBe(2);
  });

  it('closing a view leaves the shared store open', async () => {
    const shared = createMemoryStore({ now: () => 0 });
    await createNamespacedStore(shared, 'graph:a:').close();
    expect((await shared.take('k', 1, policy)).allowed).toBe(true);
  });

  it('refuses an empty namespace', () => {
    expect(() => createNamespacedStore(createMemoryStore(), '')).toThrow(TypeError);
  });
});
