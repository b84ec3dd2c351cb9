import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { COMMANDS } from './commands.ts';
import { helpText } from './help.ts';
import { type Invocation, parseCli, UsageError } from './parse.ts';

const ok: [string, string[], Invocation][] = [
  ['no arguments serve with the config alone', [], { command: 'serve', flags: {} }],
  [
    'flags first mean serve',
    ['--supergraph', 'sg.graphql', '--port', '4001', '--host', '127.0.0.1', '--config', 'g.yaml'],
    {
      command: 'serve',
      flags: { supergraphFile: 'sg.graphql', port: 4001, host: '127.0.0.1', configFile: 'g.yaml' },
    },
  ],
  [
    'serve by name, --flag=value and short flags',
    ['serve', '--port=0', '-s', 'x.graphql', '-c', 'c.yaml'],
    {
      command: 'serve',
      flags: { port: 0, supergraphFile: 'x.graphql', configFile: 'c.yaml' },
    },
  ],
  [
    'a supergraph URL is fetched and polled, not read as a path',
    ['--supergraph', 'https://registry.example/sg'],
    { command: 'serve', flags: { supergraphUrl: 'https://registry.example/sg' } },
  ],
  ['-p with its value attached', ['-p8080'], { command: 'serve', flags: { port: 8080 } }],
  ['compose', ['compose', '--config', 'g.yaml'], { command: 'compose', flags: { configFile: 'g.yaml' } }],
  [
    'compose --output',
    ['compose', '-o', 'sg.graphql'],
    { command: 'compose', flags: {}, output: 'sg.graphql' },
  ],
  ['config validate', ['config', 'validate'], { command: 'config validate', flags: {} }],
  [
    'config validate --config',
    ['config', 'validate', '--config', 'x.yaml'],
    {
      command: 'config validate',
      flags: { configFile: 'x.yaml' },
    },
  ],
  ['config schema', ['config', 'schema'], { command: 'config schema' }],
  [
    'config schema --output',
    ['config', 'schema', '--output', 's.json'],
    { command: 'config schema', output: 's.json' },
  ],
  ['--help', ['--help'], { command: 'help' }],
  ['-h', ['-h'], { command: 'help' }],
  ['--help wins over other flags, even bad ones', ['--port', '1', '--bogus', '--help'], { command: 'help' }],
  ['help', ['help'], { command: 'help' }],
  ['help <command>', ['help', 'compose'], { command: 'help', topic: 'compose' }],
  ['help config schema', ['help', 'config', 'schema'], { command: 'help', topic: 'config schema' }],
  ['serve --help', ['serve', '--help'], { command: 'help', topic: 'serve' }],
  ['compose --help', ['compose', '--help'], { command: 'help', topic: 'compose' }],
  ['config --help', ['config', '--help'], { command: 'help', topic: 'config' }],
  ['config validate -h', ['config', 'validate', '-h'], { command: 'help', topic: 'config validate' }],
  ['--version', ['--version'], { command: 'version' }],
  ['-v', ['-v'], { command: 'version' }],
  ['version', ['version'], { command: 'version' }],
];

// [case, argv, the error line, a hint it must give]
const bad: [string, string[], string, RegExp][] = [
  ['unknown flag, near miss', ['--prot', '4000'], 'unknown option --prot', /did you mean --port\?/],
  ['unknown flag, a prefix', ['--super', 'x'], 'unknown option --super', /did you mean --supergraph\?/],
  ['unknown flag, far from any', ['--verbose'], 'unknown option --verbose', /run `tollgate --help`/],
  ['a long name after one dash', ['-port', '4000'], 'unknown option -port', /did you mean --port\?/],
  [
    'a flag of another command',
    ['compose', '--port', '1'],
    'unknown option --port',
    /an option of `tollgate serve`/,
  ],
  ['--port with no value', ['--port'], '--port needs a value (--port <n>)', /run `tollgate --help`/],
  ['--port followed by a flag', ['--port', '--host', 'h'], '--port needs a value (--port <n>)', /--help/],
  ['--port=', ['--port='], '--port needs a value (--port <n>)', /--help/],
  ['--port abc', ['--port', 'abc'], '--port: expected a port number (0-65535), got "abc"', /--help/],
  [
    '--port out of range',
    ['--port', '65536'],
    '--port: expected a port number (0-65535), got "65536"',
    /--help/,
  ],
  ['--port negative', ['--port=-1'], '--port: expected a port number (0-65535), got "-1"', /--help/],
  [
    '--config with no value',
    ['compose', '--config'],
    '--config needs a value (--config <file>)',
    /tollgate compose --help/,
  ],
  [
    '--output with no value',
    ['config', 'schema', '-o'],
    '-o needs a value (--output <file>)',
    /config schema --help/,
  ],
  ['a switch given a value', ['--help=yes'], '--help takes no value', /--help/],
  ['a flag twice', ['--port', '1', '--port', '2'], '--port given twice', /--help/],
  ['unknown command, near miss', ['compse'], 'unknown command compse', /did you mean `tollgate compose`\?/],
  [
    'a file where a command goes',
    ['supergraph.graphql'],
    'unknown command supergraph.graphql',
    /tollgate --supergraph supergraph\.graphql/,
  ],
  [
    'a stray argument',
    ['serve', 'sg.graphql'],
    'unexpected argument sg.graphql',
    /did you mean --supergraph sg\.graphql\?/,
  ],
  ['config alone', ['config'], 'config needs a subcommand: validate or schema', /tollgate config --help/],
  [
    'unknown config subcommand',
    ['config', 'valdate'],
    'unknown command config valdate',
    /tollgate config validate/,
  ],
  ['help on nothing', ['help', 'frobnicate'], 'no help for frobnicate: not a command', /--help/],
];

describe('parseCli', () => {
  it.each(ok)('%s', (_name, argv, expected) => {
    expect(parseCli(argv)).toEqual(expected);
  });

  it.each(bad)('refuses %s', (_name, argv, message, hint) => {
    let error: unknown;
    try {
      parseCli(argv);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message);
    expect((error as UsageError).hints.join('\n')).toMatch(hint);
  });
});

describe('helpText', () => {
  it('shows every command and flag, and the order of the config layers', () => {
    const text = helpText();
    for (const c of COMMANDS) expect(text).toContain(c.name);
    expect(text).toMatch(/defaults < the config file < environment variables\s+\(PORT, then\s+GATEWAY_/);
    for (const c of COMMANDS) {
      const own = helpText(c.name);
      for (const f of c.flags) expect(own).toContain(`--${f.name}`);
    }
  });
});

// The command line's flags on top of the env and the file, as `serve` loads them (issue 19: PORT ignored).
describe('port precedence: defaults < file < PORT < GATEWAY_SERVER_PORT < --port', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cli-port-'));
  const file = join(dir, 'port.yaml');
  writeFileSync(file, 'server:\n  port: 5000\n');
  const rows: [string, string[], Record<string, string>, number][] = [
    ['the default', [], {}, 4000],
    ['the file', ['--config', file], {}, 5000],
    ['PORT over the file', ['--config', file], { PORT: '5001' }, 5001],
    [
      'GATEWAY_SERVER_PORT over PORT',
      ['--config', file],
      { PORT: '5001', GATEWAY_SERVER_PORT: '5002' },
      5002,
    ],
    [
      '--port over both',
      ['--config', file, '--port', '5003'],
      { PORT: '5001', GATEWAY_SERVER_PORT: '5002' },
      5003,
    ],
    ['--port 0 over PORT', ['-p', '0'], { PORT: '5001' }, 0],
  ];
  it.each(rows)('%s', (_name, argv, env, port) => {
    const invocation = parseCli(argv);
    if (invocation.command !== 'serve') throw new Error('expected serve');
    expect(loadConfig({ flags: invocation.flags, env, cwd: dir }).server.port).toBe(port);
  });
});
