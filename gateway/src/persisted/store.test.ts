import { describe, expect, it } from 'vitest';
import { createMemoryDocumentStore } from './memory-store.ts';
import { createTieredStore, type DocumentStore } from './store.ts';

const failing: DocumentStore = {
  get: () => Promise.reject(new Error('down')),
  set: () => Promise.reject(new Error('down')),
  delete: () => Promise.reject(new Error('down')),
};

describe('createTieredStore', () => {
  it('answers a remote hit and keeps a local copy', async () => {
    const local = createMemoryDocumentStore();
    const remote = createMemoryDocumentStore();
    await remote.set('h', '{ a }');
    const store = createTieredStore({ local, remote });
    expect(await store.get('h')).toBe('{ a }');
    await remote.delete('h');
    expect(await store.get('h')).toBe('{ a }');
  });

  it('writes through to both', async () => {
    const local = createMemoryDocumentStore();
    const remote = createMemoryDocumentStore();
    await createTieredStore({ local, remote }).set('h', '{ a }', { ttl: 60 });
    expect(await local.get('h')).toBe('{ a }');
    expect(await remote.get('h')).toBe('{ a }');
  });

  it('turns a failing remote into misses and local answers, reporting each failure', async () => {
    const errors: unknown[] = [];
    const store = createTieredStore({
      local: createMemoryDocumentStore(),
      remote: failing,
      onError: (e) => errors.push(e),
    });
    expect(await store.get('unknown')).toBeUndefined();
    await store.set('h', '{ a }');
    expect(await store.get('h')).toBe('{ a }');
    await expect(store.delete('h')).resolves.toBe(true);
    expect(errors).toHaveLength(3);
  });
});
