/** How messages travel between the replicas' pub/subs. */
export type PubSubMechanism = 'memory' | 'redis' | 'postgres-notify' | 'postgres-outbox';

/** Hands a message that arrived to the local subscribers of its topic. */
export type Deliver = (topic: string, payload: unknown) => void;

/** One transport; the pub/sub in front of it does the per-topic fan-out (`Hub`). */
export interface Backend {
  /** Known once the backend has started (PostgreSQL decides between NOTIFY and the outbox then). */
  mechanism(): Promise<PubSubMechanism>;
  /** Resolves once every message published from now on reaches `deliver` (while anyone subscribes). */
  listening(): Promise<void>;
  publish(topic: string, payloadJson: string): Promise<void>;
  /** Local subscribers went from none to some (true) or back (false). */
  setActive(active: boolean): void;
  close(): Promise<void>;
}

/** Rejects after `ms` with `error()` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
