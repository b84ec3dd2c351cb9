import { describe, expect, it } from 'vitest';
import { forwardedFor, parseNode, xForwardedFor } from './forwarded.ts';
import { canonicalIp } from './ip.ts';
import { type ClientAddressHeader, createClientAddressResolver } from './resolve.ts';

const PROXIES = ['10.0.0.0/8', '2001:db8:ffff::/48'];

describe('client address through trusted proxies', () => {
  const cases: {
    name: string;
    socket: string | undefined;
    header?: ClientAddressHeader;
    value?: string;
    trusted?: string[];
    expected: string;
  }[] = [
    {
      name: 'no proxies trusted: the socket, whatever the header says',
      socket: '10.0.0.2',
      value: '1.1.1.1',
      trusted: [],
      expected: '10.0.0.2',
    },
    {
      name: 'an untrusted peer cannot pick its address',
      socket: '203.0.113.9',
      value: '1.1.1.1',
      expected: '203.0.113.9',
    },
    {
      name: 'one trusted proxy: the entry it appended',
      socket: '10.0.0.2',
      value: '198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'a spoofed leftmost entry is never read',
      socket: '10.0.0.2',
      value: '6.6.6.6, 198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'a spoofed trusted-looking entry is never read',
      socket: '10.0.0.2',
      value: '10.9.9.9, 198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'two trusted hops',
      socket: '10.0.0.2',
      value: '6.6.6.6, 198.51.100.7, 10.0.0.3',
      expected: '198.51.100.7',
    },
    {
      name: 'all trusted: the leftmost',
      socket: '10.0.0.2',
      value: '10.0.0.4, 10.0.0.3',
      expected: '10.0.0.4',
    },
    { name: 'no header: the proxy itself', socket: '10.0.0.2', expected: '10.0.0.2' },
    { name: 'empty header: the proxy itself', socket: '10.0.0.2', value: '', expected: '10.0.0.2' },
    {
      name: 'IPv4-mapped socket address',
      socket: '::ffff:10.0.0.2',
      value: '198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'IPv4-mapped socket address, untrusted, canonical',
      socket: '::ffff:198.51.100.7',
      value: '1.1.1.1',
      expected: '198.51.100.7',
    },
    {
      name: 'IPv6 client behind an IPv4 proxy',
      socket: '10.0.0.2',
      value: '2001:DB8::1',
      expected: '2001:db8::1',
    },
    {
      name: 'IPv4 client behind an IPv6 proxy',
      socket: '2001:db8:ffff::5',
      value: '198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'mixed v4/v6 chain',
      socket: '10.0.0.2',
      value: '6.6.6.6, 2001:db8::1, 2001:db8:ffff::9',
      expected: '2001:db8::1',
    },
    { name: 'XFF with a port', socket: '10.0.0.2', value: '198.51.100.7:4711', expected: '198.51.100.7' },
    {
      name: 'XFF with a bracketed IPv6 and port',
      socket: '10.0.0.2',
      value: '[2001:db8::1]:4711',
      expected: '2001:db8::1',
    },
    {
      name: 'a garbage entry from a trusted proxy ends at that proxy',
      socket: '10.0.0.2',
      value: '198.51.100.7, garbage',
      expected: '10.0.0.2',
    },
    {
      name: 'an empty entry ends at that proxy',
      socket: '10.0.0.2',
      value: '198.51.100.7, ',
      expected: '10.0.0.2',
    },
    {
      name: 'garbage left of the client is not read',
      socket: '10.0.0.2',
      value: '"><script>, 198.51.100.7',
      expected: '198.51.100.7',
    },
    { name: 'unknown socket address', socket: undefined, value: '1.1.1.1', expected: 'unknown' },
    // RFC 7239
    {
      name: 'Forwarded: for=',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: quoted IPv6 with port',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for="[2001:db8:cafe::17]:4711"',
      expected: '2001:db8:cafe::17',
    },
    {
      name: 'Forwarded: case-insensitive name, other pairs',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'proto=https;For=198.51.100.7;by=10.0.0.2',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: spoofed leftmost element',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=6.6.6.6, for=198.51.100.7',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: two trusted hops',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=198.51.100.7;proto=http, for=10.0.0.3',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: obfuscated identifier',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=6.6.6.6, for="_gazonk"',
      expected: '_gazonk',
    },
    {
      name: 'Forwarded: obfuscated port',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for="198.51.100.7:_hidden"',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: unknown ends at the proxy',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=6.6.6.6, for=unknown',
      expected: '10.0.0.2',
    },
    {
      name: 'Forwarded: element without for ends at the proxy',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=6.6.6.6, proto=https',
      expected: '10.0.0.2',
    },
    {
      name: 'Forwarded: a comma inside quotes',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for=6.6.6.6, for=198.51.100.7;x="a,b"',
      expected: '198.51.100.7',
    },
    {
      name: 'Forwarded: unterminated quote ends at the proxy',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for="198.51.100.7',
      expected: '10.0.0.2',
    },
    {
      name: 'Forwarded: unbracketed IPv6 with a port is refused',
      header: 'forwarded',
      socket: '10.0.0.2',
      value: 'for="2001:db8::1:80"',
      expected: '2001:db8::1:80',
    },
    {
      name: 'Forwarded header chosen: X-Forwarded-For ignored',
      header: 'forwarded',
      socket: '10.0.0.2',
      expected: '10.0.0.2',
    },
  ];
  it.each(cases)('$name', ({ socket, header = 'x-forwarded-for', value, trusted = PROXIES, expected }) => {
    const resolve = createClientAddressResolver({ trustedProxies: trusted, header });
    const headers = value === undefined ? {} : { [header]: value };
    expect(resolve({ socket: { remoteAddress: socket }, headers })).toBe(expected);
  });

  it('reads only the configured header: a forged Forwarded is ignored behind an XFF proxy', () => {
    const resolve = createClientAddressResolver({ trustedProxies: PROXIES });
    const headers = { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '198.51.100.7' };
    expect(resolve({ socket: { remoteAddress: '10.0.0.2' }, headers })).toBe('198.51.100.7');
  });

  it('joins repeated header lines in order', () => {
    const resolve = createClientAddressResolver({ trustedProxies: PROXIES });
    const headers = { 'x-forwarded-for': ['6.6.6.6', '198.51.100.7'] };
    expect(resolve({ socket: { remoteAddress: '10.0.0.2' }, headers })).toBe('198.51.100.7');
  });

  it('computes once per request', () => {
    const resolve = createClientAddressResolver({ trustedProxies: PROXIES });
    const req = { socket: { remoteAddress: '10.0.0.2' }, headers: { 'x-forwarded-for': '198.51.100.7' } };
    expect(resolve(req)).toBe('198.51.100.7');
    req.headers['x-forwarded-for'] = '198.51.100.8';
    expect(resolve(req)).toBe('198.51.100.7');
  });

  it('without trusted proxies, computes once per connection: every request on a socket gets its peer', () => {
    const resolve = createClientAddressResolver({ trustedProxies: [] });
    const socket: { remoteAddress?: string | undefined } = { remoteAddress: '::ffff:203.0.113.9' };
    expect(resolve({ socket, headers: {} })).toBe('203.0.113.9');
    // a later request on the same keep-alive socket, after node dropped the peer (the socket closed)
    socket.remoteAddress = undefined;
    expect(resolve({ socket, headers: { 'x-forwarded-for': '6.6.6.6' } })).toBe('203.0.113.9');
    expect(resolve({ socket: { remoteAddress: '198.51.100.7' }, headers: {} })).toBe('198.51.100.7');
  });

  it('survives hostile values', () => {
    const resolve = createClientAddressResolver({
      trustedProxies: ['0.0.0.0/0', '::/0'],
      header: 'forwarded',
    });
    for (const value of [
      '"',
      ';;;,,,',
      'for',
      'for=',
      '=',
      'for="\\',
      `${'for=1.1.1.1,'.repeat(2000)}for=x`,
      '\u0000',
    ])
      expect(typeof resolve({ socket: { remoteAddress: '10.0.0.2' }, headers: { forwarded: value } })).toBe(
        'string',
      );
  });
});

describe('parsers', () => {
  it('Forwarded elements, left to right', () => {
    expect(forwardedFor('for=192.0.2.43, for="[2001:db8:cafe::17]";proto=https, by=1.2.3.4')).toEqual([
      '192.0.2.43',
      '[2001:db8:cafe::17]',
      undefined,
    ]);
    expect(forwardedFor('for="a\\"b"')).toEqual(['a"b']);
    expect(forwardedFor('for=1.1.1.1;for=2.2.2.2')).toEqual([undefined]);
  });

  it('X-Forwarded-For entries', () => {
    expect(xForwardedFor(' 1.1.1.1 ,2.2.2.2')).toEqual(['1.1.1.1', '2.2.2.2']);
  });

  it.each([
    ['192.0.2.1', { kind: 'ip', ip: '192.0.2.1' }],
    ['192.0.2.1:8080', { kind: 'ip', ip: '192.0.2.1' }],
    ['192.0.2.1:x', { kind: 'unknown' }],
    ['[2001:db8::1]', { kind: 'ip', ip: '2001:db8::1' }],
    ['[2001:db8::1]:8080', { kind: 'ip', ip: '2001:db8::1' }],
    ['[2001:db8::1', { kind: 'unknown' }],
    ['[2001:db8::1]junk', { kind: 'unknown' }],
    ['_hidden', { kind: 'obfuscated', id: '_hidden' }],
    ['unknown', { kind: 'unknown' }],
    [undefined, { kind: 'unknown' }],
  ])('node %j', (text, expected) => {
    expect(parseNode(text, canonicalIp)).toEqual(expected);
  });
});
