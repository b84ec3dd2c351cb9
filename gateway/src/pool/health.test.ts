import { describe, expect, it } from 'vitest';
import { ActiveHealth, type CheckResult, classifyCheck, type HealthStatus } from './health.ts';

describe('active health checks', () => {
  const cases: {
    name: string;
    checks: CheckResult[];
    thresholds?: [number, number];
    expected: HealthStatus[];
  }[] = [
    { name: 'the first pass decides', checks: ['pass'], expected: ['healthy'] },
    { name: 'the first failure decides', checks: ['fail'], expected: ['unhealthy'] },
    {
      name: 'one failure is not enough once healthy',
      checks: ['pass', 'fail', 'pass', 'fail'],
      expected: ['healthy', 'healthy', 'healthy', 'healthy'],
    },
    {
      name: 'two failures in a row take it out',
      checks: ['pass', 'fail', 'fail'],
      expected: ['healthy', 'healthy', 'unhealthy'],
    },
    { name: 'a 503 takes it out at once', checks: ['pass', 'fail_now'], expected: ['healthy', 'unhealthy'] },
    {
      name: 'two passes in a row bring it back',
      checks: ['fail', 'pass', 'fail', 'pass', 'pass'],
      expected: ['unhealthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy'],
    },
    {
      name: 'thresholds 3/1',
      thresholds: [3, 1],
      checks: ['pass', 'fail', 'pass', 'pass', 'pass'],
      expected: ['healthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy'],
    },
  ];
  it.each(cases)('$name', ({ checks, thresholds, expected }) => {
    const h = new ActiveHealth(
      thresholds ? { healthyThreshold: thresholds[0], unhealthyThreshold: thresholds[1] } : {},
    );
    expect(h.status).toBe('unknown');
    const seen = checks.map((c) => {
      h.record(c);
      return h.status;
    });
    expect(seen).toEqual(expected);
  });

  it('reports transitions only', () => {
    const h = new ActiveHealth();
    expect(h.record('pass')).toBe('healthy');
    expect(h.record('pass')).toBeUndefined();
    expect(h.record('fail_now')).toBe('unhealthy');
  });

  it.each([
    [200, 'pass'],
    [503, 'fail_now'],
    [500, 'fail'],
    [404, 'fail'],
    [undefined, 'fail'],
  ] as const)('status %s is %s', (status, expected) => {
    expect(classifyCheck(status)).toBe(expected);
  });
});
