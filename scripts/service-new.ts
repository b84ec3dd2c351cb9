// `npm run service:new -- <name> [--dir <servicesDir>]`: scaffolds services/<name>, a working subgraph (a
// @key entity, kit loaders, a migration, a seed and tests that pass), from scripts/templates/service/.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registerInfra } from './service-infra.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATE_DIR = join(ROOT, 'scripts', 'templates', 'service');
const SERVICES_DIR = join(ROOT, 'services');

/** Folder names under services/ that are not subgraphs, or that a subgraph must not take. */
const RESERVED = new Set(['kit', 'gateway', 'test', 'public', 'information_schema']);
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 40;

/** The name in every form the template needs. */
export interface ServiceNames {
  /** Folder, package suffix and subgraph name: `gift-cards`. */
  service: string;
  /** PostgreSQL schema (an unquoted identifier cannot hold `-`): `gift_cards`. */
  schema: string;
  /** GraphQL type prefix: `GiftCards` (the entity is `GiftCardsItem`). */
  type: string;
  /** GraphQL field prefix: `giftCards` (`Query.giftCardsItems`). */
  field: string;
}

/** A name `service:new` refuses; `code` is stable, the message says why. */
export class ServiceNameError extends Error {
  readonly code = 'SERVICE_NAME_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ServiceNameError';
  }
}

export function serviceNames(service: string): ServiceNames {
  const words = service.split('-');
  const type = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
  return { service, schema: words.join('_'), type, field: type.charAt(0).toLowerCase() + type.slice(1) };
}

/** Throws ServiceNameError unless `name` can become `<servicesDir>/<name>`. */
export function validateServiceName(name: string, servicesDir: string = SERVICES_DIR): void {
  if (!NAME.test(name)) {
    throw new ServiceNameError(
      `invalid service name ${JSON.stringify(name)}: use lowercase letters, digits and single hyphens, starting with a letter (e.g. gift-cards)`,
    );
  }
  if (name.length > MAX_NAME_LENGTH)
    throw new ServiceNameError(`service name ${name} is longer than ${MAX_NAME_LENGTH} characters`);
  if (RESERVED.has(name)) throw new ServiceNameError(`service name ${name} is reserved`);
  if (existsSync(join(servicesDir, name))) {
    throw new ServiceNameError(
      `${join(servicesDir, name)} already exists; pick another name or remove it first`,
    );
  }
  // Composition would fail on a type or root field another subgraph already defines without sharing it.
  const { type, field } = serviceNames(name);
  const taken = new RegExp(`\\b(${type}Item|${field}Items?|rename${type}Item)\\b`);
  for (const other of existsSync(servicesDir) ? readdirSync(servicesDir) : []) {
    const schema = join(servicesDir, other, 'schema.graphql');
    if (existsSync(schema) && taken.test(readFileSync(schema, 'utf8'))) {
      throw new ServiceNameError(
        `service name ${name} would define GraphQL names that ${other}/schema.graphql already uses`,
      );
    }
  }
}

export interface CreateServiceOptions {
  /** The new service's name (folder, subgraph and package suffix). */
  name: string;
  /** @default '<repo>/services' */
  servicesDir?: string;
  /**
   * Format the new files with the repo's Biome settings (line breaks and import order depend on the name).
   * @default true (skipped when Biome is not installed)
   */
  format?: boolean;
  /**
   * The repo whose infra/ (Compose, Kubernetes) and package-lock.json get the new service's entries, or
   * false for none. @default the folder above servicesDir when it holds infra/, else none
   */
  infraRoot?: string | false;
}

export interface CreatedService {
  /** The new service's folder. */
  dir: string;
  names: ServiceNames;
  /** Files written, relative to `dir`. */
  files: string[];
  /** The repo the deployment entries went to, and the files there that got them (relative to it). */
  infra?: { root: string; files: string[] };
}

function templateFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? templateFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

// Best effort: an unformatted service still works, and `npm run format` fixes it later.
function format(dir: string): void {
  const biome = join(ROOT, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return;
  spawnSync(biome, ['check', '--write', '--vcs-use-ignore-file=false', '--no-errors-on-unmatched', dir], {
    cwd: ROOT,
    stdio: 'ignore',
    timeout: 30_000,
  });
}

function render(text: string, names: ServiceNames): string {
  return text
    .replaceAll('__SERVICE__', names.service)
    .replaceAll('__SCHEMA__', names.schema)
    .replaceAll('__TYPE__', names.type)
    .replaceAll('__FIELD__', names.field);
}

/**
 * Writes the service from the template. The files land in a hidden staging folder first and appear in
 * services/ in one rename, so nothing that scans it (the launcher, a watching stack) ever sees a
 * half-written service.
 */
export function createService(options: CreateServiceOptions): CreatedService {
  const servicesDir = resolve(options.servicesDir ?? SERVICES_DIR);
  validateServiceName(options.name, servicesDir);
  if (!existsSync(servicesDir) || !statSync(servicesDir).isDirectory()) {
    throw new ServiceNameError(`${servicesDir} is not a folder`);
  }
  const names = serviceNames(options.name);
  const dir = join(servicesDir, names.service);
  // Beside services/, not in it: a scan during the write must not find a folder with schema.graphql and
  // src/main.ts. Same file system, so the rename is atomic.
  const staging = join(dirname(servicesDir), `.service-new-${names.service}-${process.pid}`);
  const files: string[] = [];
  try {
    for (const template of templateFiles(TEMPLATE_DIR)) {
      if (!template.endsWith('.tmpl')) continue;
      const file = render(template.slice(0, -'.tmpl'.length), names);
      mkdirSync(dirname(join(staging, file)), { recursive: true });
      writeFileSync(join(staging, file), render(readFileSync(join(TEMPLATE_DIR, template), 'utf8'), names));
      files.push(file);
    }
    if (options.format !== false) format(staging);
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  const infraRoot =
    options.infraRoot ?? (existsSync(join(dirname(servicesDir), 'infra')) ? dirname(servicesDir) : false);
  if (infraRoot === false) return { dir, names, files: files.sort() };
  return {
    dir,
    names,
    files: files.sort(),
    infra: { root: infraRoot, files: registerInfra(infraRoot, names.service) },
  };
}

/** What to do next, as printed by the CLI. */
export function nextSteps(created: CreatedService, cwd: string = process.cwd()): string {
  const { service, schema, type, field } = created.names;
  const where = relative(cwd, created.dir) || '.';
  const outside =
    dirname(created.dir) === SERVICES_DIR
      ? ''
      : `\nNote: ${where} is outside services/, where npm workspaces and the launcher look; move it there to use it.\n`;
  const install = created.infra?.files.includes('package-lock.json')
    ? `optional: @tollgate/service-${service} is already in package-lock.json and node_modules, as npm install
       would put it (the container builds run npm ci, which refuses a lock file that misses it)`
    : `links @tollgate/service-${service} into the workspace and adds it to package-lock.json
       (the container builds run npm ci, which refuses a lock file that misses it)`;
  const deploy = created.infra?.files.length
    ? `To deploy it: its entries, copied from products', are in (each block marked "${service}: added by npm run service:new"):
       ${created.infra.files.map((f) => relative(cwd, join(created.infra!.root, f))).join('\n       ')}
     build its image (docker build -f services/Dockerfile --build-arg SERVICE=${service} -t tollgate/${service}:local .)
     and rebuild the gateway image, which carries the schema files (infra/README.md, "Adding a subgraph").`
    : 'To deploy it, add its entries to infra/ as infra/README.md, "Adding a subgraph", says.';
  return `Created ${where} (@tollgate/service-${service}), a working subgraph:
  schema.graphql            ${type}Item @key(fields: "id"); Query.${field}Items/${field}Item; Product.${field}Items; Mutation.rename${type}Item
  src/server.ts             createSubgraph() (no listen), with src/resolvers.ts and src/loaders.ts (loadOne/loadMany)
  src/main.ts               runSubgraph(): reads PORT, HOST, DATABASE_URL, REDIS_URL, TOLLGATE_SIGNING_SECRET
  migrations/001_init.sql   the PostgreSQL schema ${schema}
  seed.sql                  two items per product ({{products}})
  test/${service}.int.test.ts

Next steps:
  1. npm install
       ${install}
  2. npx vitest run ${where}
       its tests, on an embedded PostgreSQL (or DATABASE_URL)
  3. npm start, or nothing if it is running: the launcher finds ${where} by itself (schema.graphql +
       src/main.ts) within 2 s, migrates and seeds it, runs 2 replicas of it and adds it to the
       gateway, which composes it in without a restart; then try (the port npm start printed, 4000
       unless PORT is set):
       curl -s http://localhost:4000/graphql -H 'content-type: application/json' \\
         -d '{"query":"{ topProducts(first: 2) { upc name ${field}Items { id name } } }"}'
  4. Make it yours: edit schema.graphql, add migrations/002_*.sql, keep every list behind a loader.
  5. ${deploy}
${outside}`;
}

function parseArgs(argv: readonly string[]): { name?: string; dir?: string; help: boolean } {
  const out: { name?: string; dir?: string; help: boolean } = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--dir') out.dir = argv[++i];
    else if (arg.startsWith('--dir=')) out.dir = arg.slice('--dir='.length);
    else if (arg.startsWith('-'))
      throw new ServiceNameError(`unknown option ${arg} (expected --dir <servicesDir>)`);
    else if (out.name === undefined) out.name = arg;
    else throw new ServiceNameError(`expected one service name, got ${out.name} and ${arg}`);
  }
  return out;
}

const USAGE = 'usage: npm run service:new -- <name> [--dir <servicesDir>]';

function main(argv: readonly string[]): number {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      console.log(USAGE);
      return 0;
    }
    if (!args.name) {
      console.error(`service:new: a name is required\n${USAGE}`);
      return 2;
    }
    // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const created = createService({
      name: args.name,
      servicesDir: args.dir === undefined ? undefined : resolve(cwd, args.dir),
    });
    console.log(nextSteps(created, cwd));
    return 0;
  } catch (error) {
    if (error instanceof ServiceNameError) {
      console.error(`service:new: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
