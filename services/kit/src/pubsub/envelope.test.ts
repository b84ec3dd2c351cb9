import { describe, expect, it } from 'vitest';
import { assertTopic, decodeNotice, encodeMessage, encodePayload, encodeProbe } from './envelope.ts';

describe('notices', () => {
  it.each([
    [
      'a message',
      encodeMessage('reviewAdded', '{"id":"1"}'),
      { kind: 'message', topic: 'reviewAdded', payload: { id: '1' } },
    ],
    ['a null payload', encodeMessage('t', 'null'), { kind: 'message', topic: 't', payload: null }],
    ['a reference', '{"r":"42"}', { kind: 'ref', id: '42' }],
    ['a probe', encodeProbe('abc'), { kind: 'probe', token: 'abc' }],
    ['a topic with quotes', encodeMessage('a"b', '1'), { kind: 'message', topic: 'a"b', payload: 1 }],
  ])('round-trips %s', (_, text, notice) => {
    expect(decodeNotice(text)).toEqual(notice);
  });

  it.each([
    ['not JSON', 'hello'],
    ['a number', '5'],
    ['a message without payload', '{"t":"x"}'],
    ['a reference that is not an id', '{"r":"1; DROP"}'],
    ['something else', '{"x":1}'],
  ])('ignores %s', (_, text) => {
    expect(decodeNotice(text)).toBeUndefined();
  });
});

describe('encodePayload', () => {
  it('refuses what JSON cannot carry', () => {
    expect(() => encodePayload(undefined)).toThrow(TypeError);
    expect(() => encodePayload(() => 1)).toThrow(TypeError);
    expect(() => encodePayload({ n: 1n })).toThrow(TypeError);
    expect(encodePayload({ id: '1' })).toBe('{"id":"1"}');
  });
});

describe('assertTopic', () => {
  it.each(['', 'a b', 'a*', 'a?', 'x'.repeat(201)])('refuses %j', (topic) => {
    expect(() => assertTopic(topic)).toThrow(TypeError);
  });

  it.each(['reviewAdded', 'reviews.added:v1'])('accepts %j', (topic) => {
    expect(() => assertTopic(topic)).not.toThrow();
  });
});
