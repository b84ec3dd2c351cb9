// What the small dev commands (token, apikey:new) share: flag parsing with one usage line, --help, and
// failing with exit code 2 and the reason.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Cli<T> {
  values: T;
  /** Prints `<command>: <message>` and the usage line, then exits 2. */
  fail(message: string): never;
}

export function parseCli<T>(
  command: string,
  usage: string,
  options: NonNullable<ParseArgsConfig['options']>,
): Cli<T> {
  const fail = (message: string): never => {
    console.error(`${command}: ${message}\n${usage}`);
    process.exit(2);
  };
  let values: T & { help?: boolean };
  try {
    values = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values as T & { help?: boolean };
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return { values, fail };
}

/** `--scope "a b"` and `--scope a --scope b` mean the same: scopes are space-separated in tokens and keys. */
export function scopesOf(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((s) => s.split(/\s+/)).filter(Boolean);
}
