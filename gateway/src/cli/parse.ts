// The pure core of the CLI: argv in, a typed invocation out (or a UsageError naming what is wrong).
// No I/O and no process state, so every case is a row in parse.test.ts.
import { parseArgs } from 'node:util';
import type { ConfigFlags } from '../config/index.ts';
import {
  COMMANDS,
  type CommandName,
  type CommandSpec,
  commandSpec,
  type FlagSpec,
  HELP,
  VERSION,
} from './commands.ts';
import { closest } from './suggest.ts';

export type HelpTopic = CommandName | 'config';

export type Invocation =
  | { readonly command: 'help'; readonly topic?: HelpTopic }
  | { readonly command: 'version' }
  | { readonly command: 'serve'; readonly flags: ConfigFlags }
  | { readonly command: 'compose'; readonly flags: ConfigFlags; readonly output?: string }
  | { readonly command: 'config validate'; readonly flags: ConfigFlags }
  | { readonly command: 'config schema'; readonly output?: string };

/** A command line that cannot run: `message` says what is wrong, `hints` what to do (exit code 2). */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';
  readonly hints: readonly string[];
  constructor(message: string, hints: readonly string[] = []) {
    super(message);
    this.hints = hints;
  }
}

const TOP_LEVEL = ['serve', 'compose', 'config', 'help', 'version'] as const;
const SUBCOMMANDS = { config: ['validate', 'schema'] } as const;

const helpHint = (command?: HelpTopic) =>
  `run \`tollgate ${command && command !== 'serve' ? `${command} ` : ''}--help\` for usage`;

const flagLabel = (f: FlagSpec) => `--${f.name}${f.value ? ` ${f.value}` : ''}`;

/**
 * `--supergraph <file|url>`: an http(s) URL sets `supergraph.url` (fetched and polled with ETags),
 * anything else `supergraph.file`.
 */
export function supergraphFlag(value: string): Pick<ConfigFlags, 'supergraphFile' | 'supergraphUrl'> {
  return /^https?:\/\//i.test(value) ? { supergraphUrl: value } : { supergraphFile: value };
}

/** A TCP port: digits only, 0 (any free port) to 65535. */
function portFlag(value: string, label: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new UsageError(`${label}: expected a port number (0-65535), got ${JSON.stringify(value)}`, [
      helpHint(),
    ]);
  return port;
}

/** Parses the arguments after the program name. Throws UsageError for anything it cannot run. */
export function parseCli(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  // No command (or a flag first): serve, as `tollgate --supergraph x` has always meant.
  if (first === undefined || first.startsWith('-')) return parseCommand(commandSpec('serve'), argv, true);
  switch (first) {
    case 'serve':
    case 'compose':
      return parseCommand(commandSpec(first), rest, false);
    case 'version':
      return { command: 'version' };
    case 'help':
      return parseHelp(rest);
    case 'config': {
      const [sub, ...more] = rest;
      if (sub === 'validate' || sub === 'schema')
        return parseCommand(commandSpec(`config ${sub}`), more, false);
      if (sub === '--help' || sub === '-h') return { command: 'help', topic: 'config' };
      if (sub === undefined)
        throw new UsageError('config needs a subcommand: validate or schema', [helpHint('config')]);
      const near = closest(sub, SUBCOMMANDS.config);
      throw new UsageError(`unknown command config ${sub}`, [
        ...(near ? [`did you mean \`tollgate config ${near}\`?`] : []),
        helpHint('config'),
      ]);
    }
    default: {
      const near = closest(first, TOP_LEVEL);
      const hints = near
        ? [`did you mean \`tollgate ${near}\`?`]
        : /[./]/.test(first)
          ? [`to serve a supergraph file: \`tollgate --supergraph ${first}\``]
          : [];
      throw new UsageError(`unknown command ${first}`, [...hints, helpHint()]);
    }
  }
}

function parseHelp(rest: readonly string[]): Invocation {
  const topic = rest.join(' ');
  if (!topic) return { command: 'help' };
  if (topic === 'config' || COMMANDS.some((c) => c.name === topic))
    return { command: 'help', topic: topic as HelpTopic };
  throw new UsageError(`no help for ${topic}: not a command`, [helpHint()]);
}

function parseCommand(spec: CommandSpec, args: readonly string[], implicit: boolean): Invocation {
  const known = [...spec.flags, VERSION];
  const topic: HelpTopic | undefined = implicit ? undefined : spec.name;
  const fail = (message: string, hints: readonly string[] = []) =>
    new UsageError(message, [...hints, helpHint(topic)]);

  // `-port` would be read as `-p ort`: a long name after one dash is a typo, not a group of short flags.
  for (const arg of args) {
    if (arg === '--') break;
    const long = /^-([a-z][a-z-]+)(=.*)?$/i.exec(arg)?.[1];
    const flag = long && known.find((f) => f.name === long);
    if (flag) throw fail(`unknown option ${arg}`, [`did you mean --${flag.name}?`]);
  }

  const options = Object.fromEntries(
    known.map((f) => [
      f.name,
      { type: f.value ? ('string' as const) : ('boolean' as const), ...(f.short ? { short: f.short } : {}) },
    ]),
  );
  const { tokens } = parseArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  // --help and --version answer whatever else is on the line, as most CLIs do.
  for (const t of tokens) {
    if (t.kind !== 'option' || t.value !== undefined) continue;
    if (t.name === HELP.name) return { command: 'help', ...(topic ? { topic } : {}) };
    if (t.name === VERSION.name) return { command: 'version' };
  }

  const values = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      const fileFlag = spec.flags.find((f) => f.value?.startsWith('<file'));
      throw fail(`unexpected argument ${t.value}`, [
        ...(fileFlag && /[./]/.test(t.value) ? [`did you mean --${fileFlag.name} ${t.value}?`] : []),
      ]);
    }
    const flag = known.find((f) => f.name === t.name);
    if (!flag) throw unknownOption(spec, t.rawName, fail);
    if (!flag.value) {
      if (t.value !== undefined) throw fail(`${t.rawName} takes no value`);
      continue;
    }
    // `--port` last, or followed by another flag: parseArgs would take the next flag as the value.
    const missing = t.value === undefined || t.value === '' || (!t.inlineValue && /^-./.test(t.value));
    if (missing) throw fail(`${t.rawName} needs a value (${flagLabel(flag)})`);
    if (values.has(flag.name)) throw fail(`--${flag.name} given twice`);
    values.set(flag.name, t.value!);
  }

  const configFile = values.get('config');
  const output = values.get('output');
  const flags: ConfigFlags = configFile === undefined ? {} : { configFile };
  switch (spec.name) {
    case 'serve': {
      const supergraph = values.get('supergraph');
      const port = values.get('port');
      const host = values.get('host');
      return {
        command: 'serve',
        flags: {
          ...flags,
          ...(supergraph === undefined ? {} : supergraphFlag(supergraph)),
          ...(port === undefined ? {} : { port: portFlag(port, '--port') }),
          ...(host === undefined ? {} : { host }),
        },
      };
    }
    case 'compose':
      return { command: 'compose', flags, ...(output === undefined ? {} : { output }) };
    case 'config validate':
      return { command: 'config validate', flags };
    case 'config schema':
      return { command: 'config schema', ...(output === undefined ? {} : { output }) };
  }
}

function unknownOption(
  spec: CommandSpec,
  raw: string,
  fail: (message: string, hints?: readonly string[]) => UsageError,
): UsageError {
  const name = raw.replace(/^-+/, '');
  const near = closest(
    name,
    spec.flags.map((f) => f.name),
  );
  if (near) return fail(`unknown option ${raw}`, [`did you mean --${near}?`]);
  const owner = COMMANDS.find((c) => c !== spec && c.flags.some((f) => f.name === name));
  return fail(`unknown option ${raw}`, owner ? [`--${name} is an option of \`tollgate ${owner.name}\``] : []);
}
