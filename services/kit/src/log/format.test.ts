import { describe, expect, it, vi } from 'vitest';
import { createSubgraphLogger } from '../telemetry/index.ts';
import { isPretty } from './index.ts';

function sink() {
  let text = '';
  return { write: (chunk: string) => (text += chunk), text: () => text };
}

describe('isPretty', () => {
  it.each([
    ['auto', false, false, false],
    ['auto', true, false, true],
    ['auto', false, true, true],
    ['json', true, true, false],
    ['pretty', false, false, true],
  ] as const)('%s on a terminal %s, development %s: %s', (format, isTTY, development, pretty) => {
    expect(isPretty(format, { isTTY, development })).toBe(pretty);
  });
});

describe('createSubgraphLogger: LOG_LEVEL and LOG_FORMAT', () => {
  it('writes JSON lines by default off a terminal, with the service name', () => {
    const out = sink();
    createSubgraphLogger('reviews', {}, { out }).info('hello', { n: 1 });
    expect(JSON.parse(out.text())).toMatchObject({ level: 'info', msg: 'hello', n: 1, service: 'reviews' });
  });

  it('writes readable lines with LOG_FORMAT=pretty, on a terminal, or with NODE_ENV=development', () => {
    for (const [env, isTTY] of [
      [{ LOG_FORMAT: 'pretty' }, false],
      [{}, true],
      [{ NODE_ENV: 'development' }, false],
    ] as const) {
      const out = sink();
      createSubgraphLogger('reviews', env, { out, isTTY }).warn('slow', { ms: 12 });
      expect(out.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: slow \{"service":"reviews","ms":12\}\n$/);
    }
    const out = sink();
    createSubgraphLogger(undefined, { LOG_FORMAT: 'json' }, { out, isTTY: true }).info('x');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'x' });
  });

  it('writes only what LOG_LEVEL lets through; an unknown value says so and means info', () => {
    const out = sink();
    const log = createSubgraphLogger(undefined, { LOG_LEVEL: 'warn' }, { out });
    log.info('quiet');
    log.error('loud');
    expect(
      out
        .text()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).msg),
    ).toEqual(['loud']);

    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    const fallback = sink();
    createSubgraphLogger(undefined, { LOG_LEVEL: 'chatty' }, { out: fallback }).info('shown');
    expect(said).toHaveBeenCalledWith(expect.stringMatching(/^LOG_LEVEL=chatty is not one of trace, /));
    said.mockRestore();
    expect(JSON.parse(fallback.text())).toMatchObject({ msg: 'shown' });
    const silent = sink();
    createSubgraphLogger(undefined, { LOG_LEVEL: 'silent' }, { out: silent }).error('never');
    expect(silent.text()).toBe('');
  });
});
