/**
 * Header names the rules treat specially, lower-case. RFC 9110 §7.6.1 hop-by-hop fields, with
 * `keep-alive` and `proxy-connection`, which it names as such (the rest of the `proxy-*` family is
 * matched by prefix): they describe the client's connection to the gateway, not the gateway's own to a
 * subgraph, so no rule may forward, set or remove them.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The framing and encoding of the message itself, which the gateway decides for each fetch: the host it
 * connects to, the body's length and encoding, the encodings it can decode, `expect: 100-continue`.
 */
export const FRAMING: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'content-encoding',
  'accept-encoding',
  'expect',
]);

/**
 * Credentials: only a `propagate` rule naming one forwards it (`named: authorization`); `matching` rules
 * skip them. `x-api-key` is the header the gateway's API-key authentication reads.
 */
export const CREDENTIALS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
]);

/**
 * Headers the gateway sets on every subgraph fetch itself (the request's media types, the signature and
 * trace context): a rule that would set or remove one is refused at config load.
 */
export const GATEWAY_OWNED: ReadonlySet<string> = new Set([
  'content-type',
  'accept',
  'traceparent',
  'tracestate',
  // the client's baggage reaches subgraphs only through telemetry.baggage.allowKeys, never raw
  'baggage',
  'x-tollgate-principal',
  'x-tollgate-timestamp',
  'x-tollgate-signature',
  'x-tollgate-signed-headers',
]);

/** RFC 9110 §5.1 field name: a token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/**
 * RFC 9110 §5.5 field value as the gateway sends it: visible ASCII, spaces and tabs, nothing before or
 * after. obs-text (bytes above 0x7e) is not sent, since undici and Node disagree on how to encode it.
 */
export const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;

/** Why a rule may not set (`propagate` target, `insert`) or `remove` this header, or undefined if it may. */
export function reservedProblem(name: string): string | undefined {
  const n = name.toLowerCase();
  if (n.startsWith('proxy-') && !CREDENTIALS.has(n)) return `${n} is a hop-by-hop header (RFC 9110 §7.6.1)`;
  if (HOP_BY_HOP.has(n)) return `${n} belongs to one connection (RFC 9110 §7.6.1); it is never forwarded`;
  if (FRAMING.has(n)) return `${n} frames the message; the gateway frames each subgraph fetch itself`;
  if (GATEWAY_OWNED.has(n))
    return `${n} is set by the gateway on every subgraph fetch; a rule cannot change it`;
  return undefined;
}

// Every fixed name a `matching` rule skips, in one set: it is checked for each client header of each
// request, so no message is built there.
const NEVER_MATCHED: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP,
  ...FRAMING,
  ...GATEWAY_OWNED,
  ...CREDENTIALS,
]);

/** What a `matching` rule never forwards (lower-case `name`): reserved names, credentials, pseudo-headers. */
export function skippedByMatching(name: string): boolean {
  return NEVER_MATCHED.has(name) || name.startsWith('proxy-') || name.startsWith(':');
}
