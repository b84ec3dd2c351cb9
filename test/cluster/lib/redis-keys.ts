import { connect } from 'node:net';

// Deletes every key under `prefix` (a run's own budget keys) from the Redis at `url`, which other test
// runs may share. A budget that refills slowly would otherwise stay there for a day (its TTL is the
// time it takes to refill).
const SCRIPT =
  "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) n = n + 1 end return n";

/** Resolves with how many keys were deleted. */
export function deleteKeys(url: string, prefix: string): Promise<number> {
  const target = new URL(url);
  const args = ['EVAL', SCRIPT, '0', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`];
  const db = Number(target.pathname.slice(1) || 0);
  const commands = [...(db ? [['SELECT', String(db)]] : []), args];
  const wire = commands
    .map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port || 6379), target.hostname);
    let reply = '';
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error('redis: no answer within 2 s'));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(wire));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      const lines = reply.split('\r\n').filter(Boolean);
      if (lines.length < commands.length) return;
      socket.destroy();
      const last = lines[commands.length - 1]!;
      if (last.startsWith(':')) resolve(Number(last.slice(1)));
      else reject(new Error(`redis: ${last}`));
    });
  });
}
