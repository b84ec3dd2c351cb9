// Dispatches a parsed command line. Commands are imported when run, so `--help` and `--version` answer
// without loading the gateway.
import { helpText } from './help.ts';
import { type CliIo, printError } from './io.ts';
import { parseCli, UsageError } from './parse.ts';
import { gatewayVersion } from './version.ts';

/**
 * Runs `tollgate <argv>`. Resolves to the exit code, or to undefined once `serve` listens (the process
 * then lives until a signal stops it). Usage errors exit 2, as POSIX tools do.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  let invocation: ReturnType<typeof parseCli>;
  try {
    invocation = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(io, error.message);
    for (const hint of error.hints) io.stderr(`  ${hint}\n`);
    return 2;
  }
  switch (invocation.command) {
    case 'help':
      io.stdout(helpText(invocation.topic));
      return 0;
    case 'version':
      io.stdout(`${gatewayVersion()}\n`);
      return 0;
    case 'serve': {
      const { serve } = await import('../server/index.ts');
      await serve(invocation.flags);
      return undefined;
    }
    case 'compose': {
      const { composeCommand } = await import('./compose.ts');
      return composeCommand({ flags: invocation.flags, output: invocation.output }, io);
    }
    case 'config validate': {
      const { validateConfig } = await import('./config-commands.ts');
      return validateConfig(invocation.flags, io);
    }
    case 'config schema': {
      const { printConfigSchema } = await import('./config-commands.ts');
      return printConfigSchema(invocation.output, io);
    }
  }
}
