// The command table: every command, its flags and their help text. Pure data, read by the parser and
// by the help printer, so the two cannot disagree.

/** A flag of a command: `--name <value>` when `value` names a placeholder, else a switch. */
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** The value's placeholder in the usage line (`<file>`); absent for a switch such as `--help`. */
  readonly value?: string;
  readonly description: string;
}

export type CommandName = 'serve' | 'compose' | 'config validate' | 'config schema';

export interface CommandSpec {
  readonly name: CommandName;
  readonly summary: string;
  /** Paragraphs printed under the usage line by `tollgate <command> --help`. */
  readonly details: readonly string[];
  readonly flags: readonly FlagSpec[];
}

const CONFIG: FlagSpec = {
  name: 'config',
  short: 'c',
  value: '<file>',
  description: 'the YAML config file (default: GATEWAY_CONFIG, else ./gateway.config.yaml when present)',
};
const OUTPUT: FlagSpec = {
  name: 'output',
  short: 'o',
  value: '<file>',
  description: 'write to this file instead of stdout',
};
export const HELP: FlagSpec = { name: 'help', short: 'h', description: 'show this help' };
export const VERSION: FlagSpec = { name: 'version', short: 'v', description: 'print the version' };

export const PRECEDENCE =
  'Settings are layered: built-in defaults < the config file < environment variables (PORT, then GATEWAY_<SECTION>_<KEY>, REDIS_URL, TOLLGATE_SIGNING_SECRET, OTEL_*) < flags.';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    summary: 'run the gateway (the default command)',
    details: [
      "Serves GraphQL on /graphql in front of the subgraphs of a supergraph: the --supergraph file, else the config's `subgraphs`, composed at start. Stops cleanly on SIGTERM/SIGINT.",
      PRECEDENCE,
    ],
    flags: [
      {
        name: 'supergraph',
        short: 's',
        value: '<file|url>',
        description: 'a composed supergraph SDL (write one with `tollgate compose`); sets supergraph.file',
      },
      CONFIG,
      {
        name: 'port',
        short: 'p',
        value: '<n>',
        description: 'port to listen on, 0 for any free one; sets server.port',
      },
      { name: 'host', value: '<address>', description: 'address to listen on; sets server.host' },
      HELP,
    ],
  },
  {
    name: 'compose',
    summary: "write a supergraph SDL from the config's subgraphs",
    details: [
      "Composes the config's `subgraphs` with @apollo/composition, as `rover supergraph compose` does: each subgraph's SDL comes from its `schemaFile`, else from a running replica (`{ _service { sdl } }`), signed with auth.signing.secret (TOLLGATE_SIGNING_SECRET) when one is set. The routing URL of each subgraph is its first replica. Composition errors are printed one per line (exit 1).",
    ],
    flags: [CONFIG, OUTPUT, HELP],
  },
  {
    name: 'config validate',
    summary: 'check the config as serve would load it (file + environment)',
    details: [
      'Prints `config OK: <file>` (exit 0), or one line per problem naming the key (exit 2).',
      PRECEDENCE,
    ],
    flags: [CONFIG, HELP],
  },
  {
    name: 'config schema',
    summary: 'print the JSON Schema (draft-07) of the config file, for editors',
    details: [
      "Generated from the gateway's config schema, with every key's description and default. Point your editor at it, e.g. with the first line `# yaml-language-server: $schema=./gateway.config.schema.json` in gateway.config.yaml.",
    ],
    flags: [OUTPUT, HELP],
  },
];

export function commandSpec(name: CommandName): CommandSpec {
  return COMMANDS.find((c) => c.name === name)!;
}
