// `npm start`: the whole stack on this machine, with embedded defaults unless DATABASE_URL/REDIS_URL
// are set. Prints one ready line; Ctrl-C or SIGTERM stops every process it started.
import { startStack } from './stack.ts';

const env = process.env;
const verbose = env.TOLLGATE_VERBOSE === '1';
let stopping = false;
let stack: Awaited<ReturnType<typeof startStack>> | undefined;

const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  await stack?.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
// `npm start` runs us under `sh -c`, which dies on SIGTERM without passing it on: when our parent goes
// away, stop the stack as if we had been signalled.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(0);
}, 500).unref();

try {
  stack = await startStack({
    port: env.PORT ? Number(env.PORT) : 4000,
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    dataDir: env.TOLLGATE_DATA_DIR || undefined,
    replicas: env.TOLLGATE_REPLICAS ? Number(env.TOLLGATE_REPLICAS) : 2,
    seedSize: env.SEED_SIZE === 'bench' ? 'bench' : 'small',
    log: verbose ? (line) => console.error(`tollgate: ${line}`) : undefined,
  });
} catch (error) {
  console.error(
    `tollgate: the stack did not start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
}
if (stopping) await new Promise(() => {});
const services = new Set(stack.replicas.map((r) => r.service)).size;
console.log(
  `Tollgate ready at ${stack.url} (${services} subgraphs × ${stack.replicas.length / services} replicas, ${stack.embeddedDatabase ? 'embedded PostgreSQL' : 'PostgreSQL at DATABASE_URL'}${env.REDIS_URL ? ', Redis' : ', in-process cache and limiter'})`,
);
console.log(`Metrics, readiness details and the pool view: ${stack.adminUrl} (loopback only)`);
console.log(
  'Get a token: npm run token -- --sub 1 --scope read:email, then send Authorization: Bearer <token>',
);
for (const r of stack.replicas) {
  r.child.once('exit', (code, signal) => {
    if (!stopping)
      console.error(
        `tollgate: ${r.service} replica ${r.url} exited (${signal ?? code}); the gateway routes around it`,
      );
  });
}
stack.gateway.once('exit', (code) => {
  if (!stopping) {
    console.error(`tollgate: the gateway exited with code ${code}; stopping the stack`);
    void stop(1);
  }
});
