/** Where a command writes: the process's stdout and stderr, or a test's buffers. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** One `tollgate: <message>` line on stderr. */
export function printError(io: CliIo, message: string): void {
  io.stderr(`tollgate: ${message}\n`);
}
