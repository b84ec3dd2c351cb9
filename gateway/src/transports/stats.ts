import type { TransportEndReason, TransportProtocol, TransportStats } from './types.ts';

const REASONS: readonly TransportEndReason[] = [
  'complete',
  'client',
  'slow-consumer',
  'shutdown',
  'error',
  'keepalive',
];

/** The mutable counters behind a transport's `stats()`. */
export class TransportCounters {
  connections = 0;
  subscriptions = 0;
  events = 0;
  refused = 0;
  readonly #protocol: TransportProtocol;
  readonly #ended: Record<TransportEndReason, number>;
  readonly #onEnd: ((protocol: TransportProtocol, reason: TransportEndReason) => void) | undefined;

  constructor(protocol: TransportProtocol, onEnd?: (p: TransportProtocol, r: TransportEndReason) => void) {
    this.#protocol = protocol;
    this.#onEnd = onEnd;
    this.#ended = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<TransportEndReason, number>;
  }

  /** A stream opened. */
  opened(): void {
    this.subscriptions++;
  }

  /** A stream ended (call once per stream). */
  ended(reason: TransportEndReason): void {
    this.subscriptions--;
    this.#ended[reason]++;
    try {
      this.#onEnd?.(this.#protocol, reason);
    } catch {
      // a metrics callback must not break delivery
    }
  }

  snapshot(): TransportStats {
    return {
      protocol: this.#protocol,
      connections: this.connections,
      subscriptions: this.subscriptions,
      events: this.events,
      ended: { ...this.#ended },
      refused: this.refused,
    };
  }
}
