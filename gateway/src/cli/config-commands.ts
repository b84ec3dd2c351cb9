// `tollgate config validate` and `tollgate config schema`.
import { writeFileSync } from 'node:fs';
import {
  ConfigError,
  type ConfigFlags,
  configFileFromProcess,
  loadConfigFromProcess,
} from '../config/index.ts';
import { type CliIo, printError } from './io.ts';
import { configJsonSchema } from './json-schema.ts';

/** Loads the config as `serve` would (file + environment): exit 0 with `config OK: <file>`, or 2. */
export function validateConfig(flags: ConfigFlags, io: CliIo): number {
  const file = configFileFromProcess(flags);
  try {
    loadConfigFromProcess(flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(io, `${file ?? 'the configuration'}: ${error.issues.length} problem(s)`);
    for (const issue of error.issues) io.stderr(`  ${issue}\n`);
    return 2;
  }
  io.stdout(`config OK: ${file ?? '(no config file: defaults and environment)'}\n`);
  return 0;
}

/** Prints the config's JSON Schema, or writes it to `output`. */
export function printConfigSchema(output: string | undefined, io: CliIo): number {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (output === undefined) io.stdout(text);
  else {
    writeFileSync(output, text);
    io.stderr(`tollgate: wrote the config's JSON Schema to ${output}\n`);
  }
  return 0;
}
