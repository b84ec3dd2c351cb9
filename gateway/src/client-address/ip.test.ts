import { describe, expect, it } from 'vitest';
import { canonicalIp, createAddressMatcher, networkProblem, parseIp } from './ip.ts';

describe('canonicalIp', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:0a01:0203', '10.1.2.3'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::1%eth0', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:0', '2001:db8:0:1::'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:0:0:1:1:0:0:1', '2001::1:1:0:0:1'],
    ['2001:db8:1:1:1:1:0:1', '2001:db8:1:1:1:1:0:1'],
    ['::1', '::1'],
    ['::', '::'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalIp(input)).toBe(expected);
  });

  it.each([
    '',
    'unknown',
    '_hidden',
    '1.2.3',
    '256.1.1.1',
    '1.2.3.4:80',
    '[::1]',
    'fe80:::1',
    '1::2::3',
    'x',
  ])('%j is not an address', (input) => {
    expect(canonicalIp(input)).toBeUndefined();
  });
});

describe('createAddressMatcher', () => {
  const cases: [string[], string, boolean][] = [
    [['10.0.0.0/8'], '10.200.3.4', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['10.0.0.0/8'], '::ffff:10.0.0.1', true],
    [['192.168.1.7'], '192.168.1.7', true],
    [['192.168.1.7'], '192.168.1.8', false],
    [['172.16.0.0/12'], '172.31.255.255', true],
    [['172.16.0.0/12'], '172.32.0.0', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['::/0'], '10.0.0.1', true],
    [['0.0.0.0/0'], '2001:db8::1', false],
    [['0.0.0.0/0'], '8.8.8.8', true],
    [['loopback'], '127.0.0.1', true],
    [['loopback'], '::1', true],
    [['loopback'], '10.0.0.1', false],
    [['uniquelocal'], 'fd12::1', true],
    [['uniquelocal'], '192.168.0.1', true],
    [['linklocal'], 'fe80::1', true],
    [[], '127.0.0.1', false],
  ];
  it.each(cases)('%j contains %s: %s', (entries, address, expected) => {
    expect(createAddressMatcher(entries)(parseIp(address)!)).toBe(expected);
  });

  it.each([
    ['10.0.0.0/33', 'prefix length must be 0–32'],
    ['2001:db8::/129', 'prefix length must be 0–128'],
    ['10.0.0.0/x', 'prefix length'],
    ['ten', 'is not an IP address or CIDR'],
    ['localhost', 'loopback, linklocal, uniquelocal'],
  ])('refuses %j, naming the problem', (entry, message) => {
    expect(networkProblem(entry)).toContain(message);
    expect(() => createAddressMatcher([entry])).toThrow();
  });

  it('accepts every valid entry', () => {
    for (const e of ['10.0.0.0/8', '::1', '2001:db8::/32', 'loopback', '0.0.0.0/0'])
      expect(networkProblem(e)).toBeUndefined();
  });
});
