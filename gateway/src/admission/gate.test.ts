import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/index.ts';
import { createAdmission } from './gate.ts';

const base = { subgraphs: [{ name: 'x', replicas: ['http://127.0.0.1:1/graphql'] }] };

describe('admission config', () => {
  it('defaults: an adaptive limit starting at 100 under the 1000 ceiling, nothing running or waiting', () => {
    const admission = createAdmission(loadConfig({ base }).server);
    try {
      expect(admission.snapshot()).toMatchObject({
        limit: 100,
        inflight: 0,
        queued: 0,
        standing: false,
        refusals: [],
        connections: { open: 0, refused: 0, dropped: 0 },
      });
    } finally {
      admission.stop();
    }
  });

  it('the ceiling wins over a larger initial limit; enabled: false is the fixed ceiling', () => {
    const low = createAdmission(
      loadConfig({ base: { ...base, server: { maxConcurrentRequests: 3, admission: { initialLimit: 50 } } } })
        .server,
    );
    const fixed = createAdmission(
      loadConfig({ base: { ...base, server: { maxConcurrentRequests: 7, admission: { enabled: false } } } })
        .server,
    );
    expect(low.snapshot().limit).toBe(3);
    expect(fixed.snapshot().limit).toBe(7);
    low.stop();
    fixed.stop();
  });

  it.each([
    [{ admission: { queueTimeoutMs: -1 } }, 'server.admission.queueTimeoutMs'],
    [{ admission: { tolerance: 0.5 } }, 'server.admission.tolerance'],
    [{ admission: { smoothing: 0 } }, 'server.admission.smoothing'],
    [{ admission: { minLimit: 0 } }, 'server.admission.minLimit'],
    [{ admission: { queueTimeout: 50 } }, 'server.admission'],
    [{ maxConnections: -1 }, 'server.maxConnections'],
    [{ maxConnectionsHard: 0 }, 'server.maxConnectionsHard'],
  ])('refuses %j naming %s', (server, key) => {
    expect(() => loadConfig({ base: { ...base, server } })).toThrow(ConfigError);
    expect(() => loadConfig({ base: { ...base, server } })).toThrow(key);
  });
});
