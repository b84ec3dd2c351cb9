import cluster from 'node:cluster';
import {
  ConfigError,
  type ConfigFlags,
  launcherPidFromProcess,
  loadConfigFromProcess,
} from '../config/index.ts';
import { SupergraphError } from '../supergraph/index.ts';
import { createLogger, startTracing } from '../telemetry/index.ts';
import { readTlsMaterial } from '../tls/index.ts';
import { adminLine, reportWorkerReady, runPrimary, workerCount } from './cluster.ts';
import { createGateway, type Gateway } from './create-gateway.ts';
import { createGraphsGateway } from './graphs-gateway.ts';

/**
 * `tollgate [serve]` (gateway/src/cli parses the flags): loads the config, listens, and exits cleanly on
 * SIGTERM/SIGINT. Problems at start-up print one line each and exit the process non-zero (2 for a bad
 * config, 1 for a supergraph that cannot load). Resolves once the gateway listens; the process then
 * lives until a signal stops it. Logs are JSON lines (pino) carrying the trace and span ids of the
 * request they belong to, or readable lines on a terminal (log.format).
 */
export async function serve(flags: ConfigFlags = {}): Promise<void> {
  try {
    await start(flags);
  } catch (error) {
    console.error(`tollgate: failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

async function start(flags: ConfigFlags): Promise<void> {
  // The config file is re-read on each supergraph poll with the same flags above it.
  const load = () => loadConfigFromProcess(flags);
  let config: ReturnType<typeof loadConfigFromProcess>;
  const warnings: string[] = [];
  try {
    config = loadConfigFromProcess(flags, (warning) => warnings.push(warning));
    // Read here too, before any worker forks: with server.workers a bad certificate file stops the
    // supervisor once (exit 2) instead of failing every worker it would restart.
    if (config.server.tls) readTlsMaterial(config.server.tls, 'server.tls');
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tollgate: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ ...config.log, development: config.development });
  // Once per gateway: with server.workers the supervisor says it, not every worker.
  if (cluster.isPrimary) for (const warning of warnings) logger.warn(warning);
  // server.workers > 1: this process only supervises the workers (cluster.ts), each of which runs the rest.
  const workers = workerCount(config.server.workers);
  if (cluster.isPrimary && workers > 1) {
    await runPrimary({ workers, log: (m) => console.error(m), launcherPid: launcherPidFromProcess() });
    return;
  }
  // Before anything talks to Redis or serves, so every request can be traced (OTEL_* variables).
  const tracing = await startTracing(config.telemetry);
  let gateway: Pick<Gateway, 'listen' | 'close' | 'adminUrl'> & { readonly urls?: readonly string[] };
  try {
    // `graphs`: several supergraphs on several paths, one listener (graphs-gateway.ts)
    gateway = config.graphs
      ? await createGraphsGateway({ config, logger, tracing, reloadConfig: load })
      : await createGateway({ config, logger, tracing, reloadConfig: load });
  } catch (error) {
    if (error instanceof SupergraphError) {
      console.error(`tollgate: ${error.message}`);
      process.exit(1);
    }
    // A config value only usable once read: a server.tls file that is missing or not a certificate.
    if (error instanceof ConfigError) {
      console.error(`tollgate: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const url = await gateway.listen();
  const others = gateway.urls?.slice(1) ?? [];
  const also = others.length ? ` (also ${others.join(', ')})` : '';
  const { adminUrl } = gateway;
  if (!reportWorkerReady(url, adminUrl)) {
    console.log(`tollgate: gateway ready at ${url}${also}`);
    if (adminUrl) console.log(adminLine(adminUrl));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await gateway.close();
    // what is queued goes out (a collector that is down costs at most this wait)
    await tracing.shutdown(2_000);
    logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  const launcher = launcherPidFromProcess();
  if (launcher) {
    setInterval(() => {
      if (process.ppid !== launcher) void stop('launcher gone');
    }, 1_000).unref();
  }
}
