/**
 * The `for` node of each element of an RFC 7239 `Forwarded` value, left (the first proxy's peer) to
 * right (the last proxy's peer), as written: `undefined` for an element without `for` or one that does
 * not parse. Quoted strings may hold commas and semicolons (`for="[2001:db8::1]:4711"`); a value that
 * breaks the grammar (an unterminated quote, a pair without `=`) makes that element undefined, never
 * an exception.
 */
export function forwardedFor(value: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let i = 0;
  const n = value.length;
  while (i <= n) {
    let forNode: string | undefined;
    let broken = false;
    // one element: pairs separated by `;`, ended by `,` or the end
    for (;;) {
      while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
      const eq = value.indexOf('=', i);
      const stop = nextDelimiter(value, i);
      if (eq === -1 || eq > stop) {
        // a pair without `=` (or an empty element): malformed unless the element is empty
        if (value.slice(i, stop).trim() !== '') broken = true;
        i = stop;
      } else {
        const name = value.slice(i, eq).trim().toLowerCase();
        i = eq + 1;
        let v: string;
        if (value[i] === '"') {
          let j = i + 1;
          let text = '';
          while (j < n && value[j] !== '"') {
            if (value[j] === '\\' && j + 1 < n) j++;
            text += value[j];
            j++;
          }
          if (j >= n) {
            broken = true;
            i = n;
            v = '';
          } else {
            v = text;
            i = j + 1;
            while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
            if (i < n && value[i] !== ';' && value[i] !== ',') {
              broken = true;
              i = nextDelimiter(value, i);
            }
          }
        } else {
          const end = nextDelimiter(value, i);
          v = value.slice(i, end).trim();
          i = end;
        }
        if (name === 'for') {
          if (forNode !== undefined) broken = true; // a parameter may appear once per element
          forNode = v;
        }
      }
      if (i < n && value[i] === ';') {
        i++;
        continue;
      }
      break;
    }
    out.push(broken ? undefined : forNode);
    if (i >= n) break;
    i++; // the comma
  }
  return out;
}

// The next `;` or `,` outside a quoted string, or the end.
function nextDelimiter(value: string, from: number): number {
  let quoted = false;
  for (let j = from; j < value.length; j++) {
    const c = value[j];
    if (quoted && c === '\\') j++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ';' || c === ',')) return j;
  }
  return value.length;
}

/** The entries of an `X-Forwarded-For` value, left to right, trimmed. */
export function xForwardedFor(value: string): string[] {
  return value.split(',').map((s) => s.trim());
}

/** What one hop says about the address before it. */
export type Node =
  | { kind: 'ip'; ip: string }
  /** RFC 7239 §6.3 obfuscated identifier (`_hidden`): stands for a client the proxy chose not to name. */
  | { kind: 'obfuscated'; id: string }
  /** `unknown`, a missing `for`, or anything that is not an address. */
  | { kind: 'unknown' };

const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;
const PORT = /^(?:\d{1,5}|_[A-Za-z0-9._-]+)$/;

/**
 * One node as a proxy wrote it, without its port: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
 * `[2001:db8::1]:8080`, `2001:db8::1` (X-Forwarded-For writes IPv6 bare), `_hidden`, `unknown`.
 */
export function parseNode(text: string | undefined, isIp: (s: string) => string | undefined): Node {
  if (text === undefined) return { kind: 'unknown' };
  const t = text.trim();
  if (OBFUSCATED.test(t)) return { kind: 'obfuscated', id: t };
  let host = t;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1) return { kind: 'unknown' };
    const rest = t.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return { kind: 'unknown' };
    host = t.slice(1, close);
  } else if (t.indexOf(':') !== -1 && t.indexOf(':') === t.lastIndexOf(':')) {
    // one colon: IPv4 with a port (a bare IPv6 address has at least two)
    const [h = '', port = ''] = t.split(':');
    if (!PORT.test(port)) return { kind: 'unknown' };
    host = h;
  }
  const ip = isIp(host);
  return ip === undefined ? { kind: 'unknown' } : { kind: 'ip', ip };
}
