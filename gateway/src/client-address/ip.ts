import { isIPv4, isIPv6 } from 'node:net';

/** An address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, so `::ffff:10.0.0.1` and `10.0.0.1` match alike). */
type Bytes = Uint8Array;

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function v4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** The 16 bytes of an IPv4 or IPv6 literal (a zone `%eth0` is dropped), or undefined if it is neither. */
export function parseIp(text: string): Bytes | undefined {
  const zone = text.indexOf('%');
  const ip = zone === -1 ? text : text.slice(0, zone);
  if (isIPv4(ip)) return Uint8Array.from([...MAPPED_PREFIX, ...v4Bytes(ip)]);
  if (!isIPv6(ip)) return undefined;
  // an embedded IPv4 tail (`::ffff:1.2.3.4`) as its two hex groups
  const lastColon = ip.lastIndexOf(':');
  const tail = ip.slice(lastColon + 1);
  let head = ip;
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(tail);
    head = `${ip.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left = '', right] = head.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = right === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  if (all.length !== 8) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function isMapped(b: Bytes): boolean {
  return MAPPED_PREFIX.every((v, i) => b[i] === v);
}

/**
 * The canonical text of an address: IPv4 dotted (an IPv4-mapped IPv6 address too), IPv6 in RFC 5952 form
 * (lower case, the longest run of zero groups as `::`). One client gets one budget key however a proxy
 * or the socket spells its address.
 */
export function formatIp(b: Bytes): string {
  if (isMapped(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups = Array.from({ length: 8 }, (_, i) => (b[i * 2]! << 8) | b[i * 2 + 1]!);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical text of an IP literal, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const b = parseIp(text);
  return b && formatIp(b);
}

/** A network: its first address and prefix length, both over the 16-byte form. */
interface Network {
  base: Bytes;
  bits: number;
}

// Names for ranges most deployments mean, as Express's `trust proxy` has them.
const NAMED: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function parseNetwork(text: string): Network | string {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const base = parseIp(addr);
  if (!base || addr.includes('%')) return `${JSON.stringify(text)} is not an IP address or CIDR`;
  const v4 = isIPv4(addr);
  const max = v4 ? 32 : 128;
  const prefix = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max)
    return `${JSON.stringify(text)}: the prefix length must be 0–${max}`;
  return { base, bits: Number(prefix) + (v4 ? 96 : 0) };
}

function contains(n: Network, b: Bytes): boolean {
  let bits = n.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((n.base[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** What is wrong with one `server.trustedProxies` entry, or undefined when it is fine. */
export function networkProblem(entry: string): string | undefined {
  if (NAMED[entry]) return undefined;
  const n = parseNetwork(entry);
  return typeof n === 'string' ? `${n} (or one of ${Object.keys(NAMED).join(', ')})` : undefined;
}

/** Whether an address (16-byte form) is in any of a list of networks. */
export type AddressMatcher = (address: Bytes) => boolean;

/** A matcher over CIDRs, plain addresses and the names loopback, linklocal, uniquelocal; throws on a bad entry. */
export function createAddressMatcher(entries: readonly string[]): AddressMatcher {
  const networks: Network[] = [];
  for (const entry of entries) {
    for (const e of NAMED[entry] ?? [entry]) {
      const n = parseNetwork(e);
      if (typeof n === 'string') throw new Error(n);
      networks.push(n);
    }
  }
  return (address) => networks.some((n) => contains(n, address));
}
