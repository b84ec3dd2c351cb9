/** What a NOTIFY carries: the message itself, a reference to an outbox row holding it, or a probe. */
export type Notice =
  | { kind: 'message'; topic: string; payload: unknown }
  | { kind: 'ref'; id: string }
  | { kind: 'probe'; token: string };

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; leave room below it. */
export const MAX_NOTIFY_BYTES = 7900;

/** A message notice around a payload already encoded (`encodePayload`), so it is not encoded twice. */
export function encodeMessage(topic: string, payloadJson: string): string {
  return `{"t":${JSON.stringify(topic)},"p":${payloadJson}}`;
}

export function encodeProbe(token: string): string {
  return JSON.stringify({ probe: token });
}

/** The notice in a NOTIFY payload, or undefined for anything else on the channel (never throws). */
export function decodeNotice(text: string): Notice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.t === 'string' && 'p' in v) return { kind: 'message', topic: v.t, payload: v.p };
  if (typeof v.r === 'string' && /^\d+$/.test(v.r)) return { kind: 'ref', id: v.r };
  if (typeof v.probe === 'string') return { kind: 'probe', token: v.probe };
  return undefined;
}

/** `JSON.stringify` that refuses what would not come back the same (undefined, functions, bigint). */
export function encodePayload(payload: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    throw new TypeError(`pubsub payload is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new TypeError('pubsub payload is not JSON-serialisable');
  return text;
}

/** A topic: non-empty, printable, at most 200 characters (it becomes part of a Redis channel name). */
export function assertTopic(topic: string): void {
  if (typeof topic !== 'string' || topic === '' || topic.length > 200 || /[\s*?[\]\\]/.test(topic)) {
    throw new TypeError(`pubsub topic must be 1-200 characters without spaces or glob characters`);
  }
}
