// The help text, built from the command table (commands.ts).
import { COMMANDS, type CommandSpec, commandSpec, type FlagSpec, HELP, VERSION } from './commands.ts';
import type { HelpTopic } from './parse.ts';

const WIDTH = 100;

function wrap(text: string, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > WIDTH - indent.length) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

const label = (f: FlagSpec) =>
  `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;

function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n');
}

function usageLine(spec: CommandSpec): string {
  const name = spec.name === 'serve' ? '[serve]' : spec.name;
  const flags = spec.flags
    .filter((f) => f !== HELP)
    .map((f) => `[--${f.name}${f.value ? ` ${f.value}` : ''}]`);
  return ['tollgate', name, ...flags].join(' ');
}

function commandHelp(spec: CommandSpec): string {
  return [
    `Usage: ${usageLine(spec)}`,
    '',
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    ...spec.details.map((d) => `\n${wrap(d)}`),
    '',
    'Options:',
    table(spec.flags.map((f) => [label(f), f.description])),
  ].join('\n');
}

function overview(): string {
  return [
    'tollgate: the Tollgate GraphQL federation gateway',
    '',
    'Usage:',
    ...COMMANDS.map((c) => `  ${usageLine(c)}`),
    '  tollgate help [command]',
    '',
    'Commands:',
    table(COMMANDS.map((c) => [c.name, c.summary])),
    '',
    'Options:',
    table(
      [HELP, VERSION].map((f) => [
        label(f),
        f === HELP ? 'show this help (`tollgate <command> --help` for one command)' : f.description,
      ]),
    ),
    '',
    wrap(commandSpec('serve').details[1]!),
    'Docs: docs/cli.md (this CLI), docs/config.md (every config key).',
  ].join('\n');
}

/** The text `tollgate --help` (no topic) or `tollgate <command> --help` prints. */
export function helpText(topic?: HelpTopic): string {
  if (!topic) return `${overview()}\n`;
  if (topic === 'config')
    return `${[commandHelp(commandSpec('config validate')), commandHelp(commandSpec('config schema'))].join('\n\n')}\n`;
  return `${commandHelp(commandSpec(topic))}\n`;
}
