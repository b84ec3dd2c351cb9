import type { Backend, Deliver, PubSubMechanism } from './backend.ts';

/** In this process only: for a single replica and tests. Delivers a copy, as the others do. */
export class MemoryBackend implements Backend {
  readonly #deliver: Deliver;

  constructor(deliver: Deliver) {
    this.#deliver = deliver;
  }

  async mechanism(): Promise<PubSubMechanism> {
    return 'memory';
  }

  async listening(): Promise<void> {}

  async publish(topic: string, payloadJson: string): Promise<void> {
    // A copy, on a later tick: a subscriber never shares the publisher's object nor runs inside publish().
    const payload: unknown = JSON.parse(payloadJson);
    queueMicrotask(() => this.#deliver(topic, payload));
  }

  setActive(): void {}

  async close(): Promise<void> {}
}
