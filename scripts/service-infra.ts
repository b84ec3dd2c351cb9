// What `npm run service:new` adds outside services/<name> so the new subgraph deploys like the samples
// (and test/e2e/infra.e2e.ts, which holds every service to the same entries, stays green): the products
// entries of infra/docker-compose.yml, infra/compose/gateway.config.yaml and infra/k8s copied under the
// new name, and the workspace entries npm install would add to package-lock.json. Each YAML block is
// text, inserted beside the products one and opened by a `# <name>: added by npm run service:new` line,
// so the files keep their comments and anchors and a block is easy to find and remove.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The sample service whose entries are copied. */
const MODEL = 'products';
const MODEL_WORD = new RegExp(`\\b${MODEL}\\b`, 'g');

/** A file `registerInfra` could not edit: its products entry is not where it is expected. */
export class InfraLayoutError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}; add the new service's entries by hand (infra/README.md, "Adding a subgraph")`);
    this.name = 'InfraLayoutError';
  }
}

const marker = (indent: string, name: string) => `${indent}# ${name}: added by npm run service:new`;
const rename = (lines: readonly string[], name: string) => lines.map((l) => l.replace(MODEL_WORD, name));

/** The lines of the list entry that starts at `start` (`<indent>- …` and the lines indented under it). */
function entryAt(lines: readonly string[], start: number, indent: string): string[] {
  const out = [lines[start]!];
  for (let i = start + 1; i < lines.length && lines[i]!.startsWith(`${indent}  `); i++) out.push(lines[i]!);
  return out;
}

/** Index after the last entry of the list that holds line `start` (entries `<indent>- `, their bodies, comments). */
function listEnd(lines: readonly string[], start: number, indent: string): number {
  let i = start;
  while (
    i < lines.length &&
    (lines[i]!.startsWith(`${indent}- `) ||
      lines[i]!.startsWith(`${indent}  `) ||
      lines[i]!.startsWith(`${indent}#`))
  )
    i++;
  return i;
}

/** Appends a copy of the `- <key>: <MODEL-ish>` list entry, renamed, at the end of its list. */
function appendListEntry(file: string, text: string, entryLine: RegExp, name: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => entryLine.test(l));
  if (at < 0) throw new InfraLayoutError(file, `no entry matching ${entryLine}`);
  const indent = /^(\s*)-/.exec(lines[at]!)![1]!;
  const entry = rename(entryAt(lines, at, indent), name);
  lines.splice(listEnd(lines, at, indent), 0, marker(indent, name), ...entry);
  return lines.join('\n');
}

function composeFile(file: string, text: string, name: string): string {
  const lines = text.split('\n');
  // 1. The gateways wait for its replicas (x-gateway's depends_on).
  const gatewayAt = lines.findIndex((l) => l.startsWith('x-gateway:'));
  const dependsAt = lines.findIndex((l, i) => i > gatewayAt && l === '  depends_on:');
  if (gatewayAt < 0 || dependsAt < 0) throw new InfraLayoutError(file, 'no x-gateway depends_on');
  let end = dependsAt + 1;
  while (end < lines.length && lines[end]!.startsWith('    ')) end++;
  lines.splice(
    end,
    0,
    marker('    ', name),
    ...[1, 2].flatMap((n) => [`    ${name}-${n}:`, '      condition: service_started']),
  );
  // 2. Its migrate one-shot and two replicas, at the end of `services:`.
  const first = lines.indexOf(`  ${MODEL}-migrate:`);
  const last = lines.indexOf(`  ${MODEL}-2: *${MODEL}`);
  const volumesAt = lines.indexOf('volumes:');
  if (first < 0 || last < first || volumesAt < last)
    throw new InfraLayoutError(file, `no ${MODEL}-migrate … ${MODEL}-2 block before volumes:`);
  let insertAt = volumesAt;
  while (insertAt > 0 && lines[insertAt - 1] === '') insertAt--;
  lines.splice(insertAt, 0, '', marker('  ', name), ...rename(lines.slice(first, last + 1), name));
  return lines.join('\n');
}

function kustomization(file: string, text: string, name: string): string {
  const lines = text.split('\n');
  let last = -1;
  lines.forEach((l, i) => {
    if (/^ {2}- subgraphs\/\S+\.yaml$/.test(l)) last = i;
  });
  if (last < 0) throw new InfraLayoutError(file, 'no `- subgraphs/<name>.yaml` resource');
  lines.splice(last + 1, 0, marker('  ', name), `  - subgraphs/${name}.yaml`);
  return lines.join('\n');
}

interface LockFile {
  packages: Record<string, unknown>;
  [key: string]: unknown;
}

/** Inserts `key` among the keys that share its first path segment, in order, as npm writes them. */
function withKey(packages: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const entries = Object.entries(packages).filter(([k]) => k !== key);
  const prefix = key.slice(0, key.lastIndexOf('/') + 1);
  let at = -1;
  entries.forEach(([k], i) => {
    if (k.startsWith(prefix) && k < key) at = i;
  });
  if (at < 0) at = entries.length - 1;
  entries.splice(at + 1, 0, [key, value]);
  return Object.fromEntries(entries);
}

/** The workspace's entries in package-lock.json and its node_modules link, as `npm install` makes them. */
function lockAndLink(root: string, name: string): string[] {
  const lockPath = join(root, 'package-lock.json');
  if (!existsSync(lockPath)) return [];
  const pkg = JSON.parse(readFileSync(join(root, 'services', name, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies?: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as LockFile;
  let packages = withKey(lock.packages, `node_modules/${pkg.name}`, {
    resolved: `services/${name}`,
    link: true,
  });
  packages = withKey(packages, `services/${name}`, {
    name: pkg.name,
    version: pkg.version,
    ...(pkg.dependencies ? { dependencies: pkg.dependencies } : {}),
  });
  writeFileSync(lockPath, `${JSON.stringify({ ...lock, packages }, null, 2)}\n`);
  const link = join(root, 'node_modules', ...pkg.name.split('/'));
  if (existsSync(join(link, '..')) && !existsSync(link)) symlinkSync(`../../services/${name}`, link, 'dir');
  return ['package-lock.json'];
}

/**
 * Adds the entries of service `name` (already in `<root>/services/<name>`) to the repo's deployment
 * files and lock file. Returns the files changed or written, relative to `root`. Files that are
 * missing are skipped; one whose layout is not the expected one throws InfraLayoutError before any
 * file is written.
 */
export function registerInfra(root: string, name: string): string[] {
  const edits: Array<[string, (file: string, text: string) => string]> = [
    ['infra/docker-compose.yml', (f, t) => composeFile(f, t, name)],
    [
      'infra/compose/gateway.config.yaml',
      (f, t) => appendListEntry(f, t, new RegExp(`^\\s*- name: ${MODEL}$`), name),
    ],
    [
      'infra/k8s/base/gateway.config.yaml',
      (f, t) => appendListEntry(f, t, new RegExp(`^\\s*- name: ${MODEL}$`), name),
    ],
    ['infra/k8s/base/kustomization.yaml', (f, t) => kustomization(f, t, name)],
    ...['aws', 'dev'].map(
      (overlay) =>
        [
          `infra/k8s/overlays/${overlay}/kustomization.yaml`,
          (f: string, t: string) =>
            appendListEntry(f, t, new RegExp(`^\\s*- name: tollgate/${MODEL}$`), name),
        ] as [string, (file: string, text: string) => string],
    ),
  ];
  const model = join(root, 'infra', 'k8s', 'base', 'subgraphs', `${MODEL}.yaml`);
  const manifest = `infra/k8s/base/subgraphs/${name}.yaml`;
  // Everything is computed first, so a file in an unexpected layout leaves all of them as they were.
  const writes: Array<[string, string]> = [];
  for (const [file, edit] of edits) {
    const path = join(root, file);
    if (existsSync(path)) writes.push([file, edit(file, readFileSync(path, 'utf8'))]);
  }
  if (existsSync(model)) {
    const copy = readFileSync(model, 'utf8').replace(MODEL_WORD, name);
    writes.push([manifest, `# Written by npm run service:new from ${MODEL}.yaml.\n${copy}`]);
  }
  for (const [file, text] of writes) writeFileSync(join(root, file), text);
  return [...writes.map(([file]) => file), ...lockAndLink(root, name)];
}
