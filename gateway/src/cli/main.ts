// The `tollgate` process (bin/tollgate.js imports this): runs the command line and sets the exit code.
// node:cluster workers (server.workers > 1) run this same entry with the same arguments.
import { runCli } from './run.ts';

const io = {
  stdout: (text: string) => void process.stdout.write(text),
  stderr: (text: string) => void process.stderr.write(text),
};

runCli(process.argv.slice(2), io).then(
  (code) => {
    if (code === undefined) return; // serving
    process.exitCode = code;
    // A command is done: kept-alive sockets (a replica asked for its SDL) must not hold the process.
    setTimeout(() => process.exit(code), 1_000).unref();
  },
  (error: unknown) => {
    io.stderr(`tollgate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
