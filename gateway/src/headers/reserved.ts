/**
 * Header names the rules treat specially, lower-case. RFC 9110 §7.6.1 hop-by-hop fields (plus
 * `keep-alive` and the `proxy-*` family, which it names as such), and the framing fields `host` and
 * `content-length`: they describe the client's connection to the gateway, not the gateway's own to a
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
  'host',
  'content-length',
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
  if (HOP_BY_HOP.has(n))
    return `${n} belongs to one connection (RFC 9110 §7.6.1); the gateway frames its own requests`;
  if (GATEWAY_OWNED.has(n))
    return `${n} is set by the gateway on every subgraph fetch; a rule cannot change it`;
  return undefined;
}

/** What a `matching` rule never forwards: reserved names, credentials, pseudo-headers. */
export function skippedByMatching(name: string): boolean {
  return (
    name.startsWith(':') ||
    CREDENTIALS.has(name) ||
    name.startsWith('proxy-') ||
    reservedProblem(name) !== undefined
  );
}
