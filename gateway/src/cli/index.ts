// The `tollgate` command line: a pure parser (argv → Invocation) and the commands it runs.
// main.ts is the process entry; nothing here reads process state but the commands themselves.
export { COMMANDS, type CommandName } from './commands.ts';
export { helpText } from './help.ts';
export type { CliIo } from './io.ts';
export { configJsonSchema } from './json-schema.ts';
export { type HelpTopic, type Invocation, parseCli, UsageError } from './parse.ts';
export { runCli } from './run.ts';
