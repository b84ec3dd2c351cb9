import type { IncomingHttpHeaders } from 'node:http';
import { forwardedFor, parseNode, xForwardedFor } from './forwarded.ts';
import { canonicalIp, createAddressMatcher, parseIp } from './ip.ts';

/** Which header the trusted proxies write the client's address in. */
export type ClientAddressHeader = 'x-forwarded-for' | 'forwarded';

export interface ClientAddressOptions {
  /**
   * Proxies whose word about the client is taken: CIDRs (`10.0.0.0/8`, `2001:db8::/32`), plain addresses,
   * or `loopback`, `linklocal`, `uniquelocal`. Empty: the socket's peer is the client.
   * @default []
   */
  trustedProxies: readonly string[];
  /** The one header read; the other is ignored (a client could forge the one the proxy does not manage). @default 'x-forwarded-for' */
  header?: ClientAddressHeader;
}

/** What the resolver reads of a request: node:http's IncomingMessage has both. */
export interface ClientRequestLike {
  socket: { remoteAddress?: string | undefined };
  headers: IncomingHttpHeaders;
}

/** The client's address of a request, computed once per request. */
export type ClientAddressOf = (req: ClientRequestLike) => string;

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Walks the hops right to left from the socket's peer: while the address at hand is a trusted proxy,
 * the entry that proxy appended names the next address. The first address that is not a trusted proxy
 * is the client. Entries left of it (whatever the client itself sent) are never read. An entry a
 * trusted proxy wrote that is not an address (`unknown`, garbage) ends the walk at that proxy; an
 * obfuscated identifier (`for=_hidden`) is the client as the proxy chose to name it.
 */
export function resolveClientAddress(
  socketAddress: string | undefined,
  forwarded: string | undefined,
  header: ClientAddressHeader,
  trusted: (address: Uint8Array) => boolean,
): string {
  if (socketAddress === undefined || socketAddress === '') return 'unknown';
  let current = canonicalIp(socketAddress);
  if (current === undefined) return socketAddress;
  if (!trusted(parseIp(current)!) || forwarded === undefined) return current;
  const hops = header === 'forwarded' ? forwardedFor(forwarded) : xForwardedFor(forwarded);
  for (let i = hops.length - 1; i >= 0; i--) {
    const node = parseNode(hops[i], canonicalIp);
    if (node.kind === 'obfuscated') return node.id;
    if (node.kind === 'unknown') return current;
    current = node.ip;
    if (!trusted(parseIp(current)!)) return current;
  }
  return current;
}

/**
 * The gateway's client-address function for `server.trustedProxies`: the budget key of anonymous
 * callers, the access log's `client` and the request span's `client.address`. Memoized per request,
 * so every reader agrees. Throws on a bad entry (config validation names it first).
 */
export function createClientAddressResolver(options: ClientAddressOptions): ClientAddressOf {
  const header = options.header ?? 'x-forwarded-for';
  const trustedProxies = options.trustedProxies;
  const matcher = createAddressMatcher(trustedProxies);
  const trusted = trustedProxies.length === 0 ? () => false : matcher;
  const seen = new WeakMap<object, string>();
  if (trustedProxies.length === 0) {
    // The socket's peer is the answer: once per connection, not per request (keep-alive reuses it).
    return (req) => {
      const socket = req.socket;
      const known = seen.get(socket);
      if (known !== undefined) return known;
      const address = resolveClientAddress(socket.remoteAddress, undefined, header, trusted);
      seen.set(socket, address);
      return address;
    };
  }
  return (req) => {
    const known = seen.get(req);
    if (known !== undefined) return known;
    const address = resolveClientAddress(
      req.socket.remoteAddress,
      headerValue(req.headers, header),
      header,
      trusted,
    );
    seen.set(req, address);
    return address;
  };
}
