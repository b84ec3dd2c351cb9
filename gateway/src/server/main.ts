import { ConfigError, launcherPidFromProcess, loadConfigFromProcess } from '../config/index.ts';
import { SupergraphError } from '../supergraph/index.ts';
import { createGateway, type Logger } from './create-gateway.ts';

// `tollgate --supergraph <file> [--port <n>] [--config <file>]`: loads the config, listens, and exits
// cleanly on SIGTERM/SIGINT. Problems at start-up print one line each and exit non-zero.
const logger: Logger = {
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.error(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', message, ...fields })),
};

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfigFromProcess>;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tollgate: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  let gateway: Awaited<ReturnType<typeof createGateway>>;
  try {
    gateway = await createGateway({ config, logger, reloadConfig: loadConfigFromProcess });
  } catch (error) {
    if (error instanceof SupergraphError) {
      console.error(`tollgate: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const url = await gateway.listen();
  console.log(`tollgate: gateway ready at ${url}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await gateway.close();
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

main().catch((error: unknown) => {
  console.error(`tollgate: failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
