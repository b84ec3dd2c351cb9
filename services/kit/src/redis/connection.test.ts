import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisConnection, type RedisDeadline, type RedisFailure } from './index.ts';

// A server that accepts and never answers: the connection never becomes ready.
let hung: Server | undefined;
afterEach(() => hung?.close());

function deadline(timeoutMs: number): RedisDeadline & { failures: RedisFailure[] } {
  const failures: RedisFailure[] = [];
  return {
    timeoutMs,
    graceTurn: false,
    failures,
    fail: (f, what) => {
      failures.push(f);
      return new Error(what);
    },
  };
}

describe('RedisConnection', () => {
  it('fails a call at its deadline and never sends it once the deadline passed', async () => {
    hung = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((resolve) => hung?.once('listening', resolve));
    const { port } = hung.address() as { port: number };
    const redis = new RedisConnection({
      url: `redis://127.0.0.1:${port}`,
      connectionName: 'test',
      connectTimeoutMs: 1000,
      socketTimeoutMs: 1000,
      resendAfterReconnect: false,
    });
    const op = vi.fn(async () => 'sent');
    const rule = deadline(30);
    await expect(redis.run('get', op, rule)).rejects.toThrow('get');
    expect(rule.failures.map((f) => f.kind)).toEqual(['deadline']);
    await redis.close(50);
    expect(op).not.toHaveBeenCalled();
    expect(redis.closed).toBe(true);
  });

  it('fails a call at once when the connection cannot be made', async () => {
    const redis = new RedisConnection({
      url: 'redis://127.0.0.1:1',
      connectionName: 'test',
      connectTimeoutMs: 200,
      socketTimeoutMs: 1000,
      resendAfterReconnect: false,
    });
    const rule = deadline(500);
    // Connection refused: the attempt in progress closes before it is ready, or Redis is already down.
    await expect(redis.run('get', async () => 'never', rule)).rejects.toThrow('get');
    expect(['lost', 'down']).toContain(rule.failures[0]?.kind);
    await redis.close(50);
  });
});
