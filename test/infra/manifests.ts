// Reading the deployment files without the tools that would apply them (no kubectl, kustomize or docker
// here): a kustomize subset, a Dockerfile reader, .dockerignore matching and compose interpolation.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A Kubernetes object as rendered: `kind`, `apiVersion` and `metadata.name` always present. */
export interface K8sObject extends JsonObject {
  apiVersion: string;
  kind: string;
  metadata: JsonObject & { name: string; namespace?: string };
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every YAML document of a file; throws on any YAML error. Merge keys (`<<`) are resolved, as compose does. */
export function readYamlDocuments(file: string): Json[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  return docs
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS({ maxAliasCount: 1000 }) as Json;
    })
    .filter((d) => d !== null);
}

export function readYaml(file: string): Json {
  const docs = readYamlDocuments(file);
  if (docs.length !== 1) throw new Error(`${file}: expected one YAML document, found ${docs.length}`);
  return docs[0]!;
}

function asK8sObject(doc: Json, file: string): K8sObject {
  if (!isObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
    throw new Error(`${file}: a document without apiVersion/kind`);
  }
  const metadata = doc.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string')
    throw new Error(`${file}: a ${doc.kind} without metadata.name`);
  return doc as K8sObject;
}

// Kinds the namespace transformer leaves alone (the ones these manifests could contain).
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
  'CustomResourceDefinition',
]);

// Strategic merge keys of the lists these manifests patch.
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'name',
};

/**
 * Strategic merge patch, the subset kustomize applies to these manifests: maps merge key by key, `null`
 * deletes, lists of containers/env/volumes/volumeMounts/ports merge by their key, other lists are replaced.
 */
export function strategicMerge(base: Json, patch: Json, key?: string): Json {
  if (isObject(base) && isObject(patch)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = k in base ? strategicMerge(base[k]!, v, k) : v;
    }
    return out;
  }
  const mergeKey = key === undefined ? undefined : MERGE_KEYS[key];
  if (
    mergeKey &&
    Array.isArray(base) &&
    Array.isArray(patch) &&
    [...base, ...patch].every((i) => isObject(i) && mergeKey in i)
  ) {
    const out = [...base];
    for (const item of patch as JsonObject[]) {
      const at = out.findIndex((b) => (b as JsonObject)[mergeKey] === item[mergeKey]);
      if (at === -1) out.push(item);
      else out[at] = strategicMerge(out[at]!, item);
    }
    return out;
  }
  return patch;
}

const KUSTOMIZATION_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'patches',
  'namespace',
  'images',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
]);

function strings(value: Json | undefined, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error(`${what}: expected a list of strings`);
  return value as string[];
}

function list(value: Json | undefined, what: string): JsonObject[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isObject))
    throw new Error(`${what}: expected a list of mappings`);
  return value as JsonObject[];
}

function splitImage(image: string): { name: string; tag: string | undefined } {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/')
    ? { name: image.slice(0, at), tag: image.slice(at + 1) }
    : { name: image, tag: undefined };
}

function podSpecOf(obj: K8sObject): JsonObject | undefined {
  const spec = obj.spec;
  if (!isObject(spec)) return undefined;
  const template = spec.template;
  if (isObject(template) && isObject(template.spec)) return template.spec;
  return undefined;
}

/** Every container (init containers included) of a workload. */
export function containersOf(obj: K8sObject): JsonObject[] {
  const pod = podSpecOf(obj);
  if (!pod) return [];
  return [...list(pod.initContainers, 'initContainers'), ...list(pod.containers, 'containers')];
}

export interface RenderOptions {
  /**
   * A generator's env or data file that does not exist (a `secrets.env` nobody commits) is read from
   * `<file>.example` instead of failing the rendering as kustomize would.
   */
  examplesForMissingFiles?: boolean;
}

/** `KEY=value` lines of a kustomize env file (`#` comments and blank lines skipped), as kustomize reads them. */
export function readEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}:${i + 1}: expected KEY=value`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The file a generator names, or its `.example` when that is allowed and the file is missing. */
function generatorFile(dir: string, name: string, options: RenderOptions): string {
  const path = resolve(dir, name);
  if (existsSync(path) || !options.examplesForMissingFiles) return path;
  return `${path}.example`;
}

/**
 * `kustomize build <dir>` for the fields these manifests use; any other field in a kustomization
 * throws, so the manifests cannot drift outside what this checks.
 */
export function renderKustomization(dir: string, options: RenderOptions = {}): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = readYaml(file);
  if (!isObject(k)) throw new Error(`${file}: expected a mapping`);
  for (const field of Object.keys(k)) {
    if (!KUSTOMIZATION_FIELDS.has(field))
      throw new Error(`${file}: field ${field} is outside the supported kustomize subset`);
  }
  if (k.kind !== 'Kustomization') throw new Error(`${file}: kind must be Kustomization`);

  let objects: K8sObject[] = [];
  for (const r of strings(k.resources, `${file} resources`)) {
    const path = resolve(dir, r);
    if (!existsSync(path)) throw new Error(`${file}: resource ${r} does not exist`);
    if (statSync(path).isDirectory()) objects.push(...renderKustomization(path, options));
    else objects.push(...readYamlDocuments(path).map((d) => asK8sObject(d, path)));
  }

  const generatorOptions = k.generatorOptions;
  if (generatorOptions !== undefined) {
    if (
      !isObject(generatorOptions) ||
      Object.keys(generatorOptions).some((o) => o !== 'disableNameSuffixHash')
    ) {
      throw new Error(`${file}: generatorOptions supports disableNameSuffixHash only`);
    }
  }
  const generators = list(k.configMapGenerator, `${file} configMapGenerator`);
  const secretGenerators = list(k.secretGenerator, `${file} secretGenerator`);
  if (
    generators.length + secretGenerators.length &&
    !(isObject(generatorOptions) && generatorOptions.disableNameSuffixHash === true)
  ) {
    throw new Error(
      `${file}: configMapGenerator and secretGenerator need generatorOptions.disableNameSuffixHash: true (name hashes are not rendered)`,
    );
  }
  for (const g of secretGenerators) {
    if (Object.keys(g).some((f) => !['name', 'envs', 'files', 'literals', 'type'].includes(f)))
      throw new Error(`${file}: secretGenerator supports name, envs, files, literals and type`);
    const data: JsonObject = {};
    const put = (key: string, value: string) => {
      data[key] = Buffer.from(value, 'utf8').toString('base64');
    };
    for (const e of strings(g.envs, `${file} envs`)) {
      const path = generatorFile(dir, e, options);
      if (!existsSync(path)) throw new Error(`${file}: secretGenerator env file ${e} does not exist`);
      for (const [key, value] of Object.entries(readEnvFile(readFileSync(path, 'utf8'), path)))
        put(key, value);
    }
    for (const f of strings(g.files, `${file} files`))
      put(basename(f), readFileSync(generatorFile(dir, f, options), 'utf8'));
    for (const l of strings(g.literals, `${file} literals`)) {
      const eq = l.indexOf('=');
      put(l.slice(0, eq), l.slice(eq + 1));
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: String(g.name) },
      type: typeof g.type === 'string' ? g.type : 'Opaque',
      data,
    });
  }
  for (const g of generators) {
    if (Object.keys(g).some((f) => f !== 'name' && f !== 'files' && f !== 'literals'))
      throw new Error(`${file}: configMapGenerator supports name, files and literals`);
    const data: JsonObject = {};
    for (const f of strings(g.files, `${file} files`))
      data[basename(f)] = readFileSync(resolve(dir, f), 'utf8');
    for (const l of strings(g.literals, `${file} literals`)) {
      const eq = l.indexOf('=');
      data[l.slice(0, eq)] = l.slice(eq + 1);
    }
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: String(g.name) }, data });
  }

  for (const p of list(k.patches, `${file} patches`)) {
    if (Object.keys(p).some((f) => f !== 'path') || typeof p.path !== 'string')
      throw new Error(`${file}: patches support { path } only`);
    const patchFile = resolve(dir, p.path);
    const patch = asK8sObject(readYaml(patchFile), patchFile);
    // Like kustomize: kind and name, and the namespace when the patch gives one.
    const at = objects.findIndex(
      (o) =>
        o.kind === patch.kind &&
        o.metadata.name === patch.metadata.name &&
        (patch.metadata.namespace === undefined || o.metadata.namespace === patch.metadata.namespace),
    );
    if (at === -1) throw new Error(`${patchFile}: no ${patch.kind} ${patch.metadata.name} to patch`);
    objects[at] = strategicMerge(objects[at]!, patch) as K8sObject;
  }

  for (const image of list(k.images, `${file} images`)) {
    if (Object.keys(image).some((f) => !['name', 'newName', 'newTag'].includes(f)))
      throw new Error(`${file}: images support name, newName and newTag`);
    let used = false;
    for (const obj of objects) {
      for (const c of containersOf(obj)) {
        const current = splitImage(String(c.image));
        if (current.name !== image.name) continue;
        used = true;
        const name = typeof image.newName === 'string' ? image.newName : current.name;
        const tag = typeof image.newTag === 'string' ? image.newTag : current.tag;
        c.image = tag === undefined ? name : `${name}:${tag}`;
      }
    }
    if (!used) throw new Error(`${file}: image ${String(image.name)} matches no container`);
  }

  if (typeof k.namespace === 'string') {
    const namespace = k.namespace;
    objects = objects.map((o) => {
      if (o.kind === 'Namespace') return { ...o, metadata: { ...o.metadata, name: namespace } };
      if (CLUSTER_SCOPED.has(o.kind)) return o;
      return { ...o, metadata: { ...o.metadata, namespace } };
    });
  }
  return objects;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `${VAR:?message}` as docker compose interpolates them. */
export function interpolate(value: Json, env: Readonly<Record<string, string | undefined>>): Json {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
      (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
        if (whole === '$$') return '$';
        const v = env[name!];
        if (op === ':-') return v ? v : arg!;
        if (op === '-') return v ?? arg!;
        if (op === ':?' || op === '?') {
          if (op === ':?' ? !v : v === undefined) throw new Error(`${name} is required: ${arg}`);
          return v!;
        }
        return v ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, env));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  return value;
}

export interface DockerInstruction {
  keyword: string;
  args: string;
  /** The stage it belongs to: its FROM alias or index. */
  stage: string;
}

/** A Dockerfile's instructions: continuation lines joined, comments and the syntax directive dropped. */
export function readDockerfile(file: string): DockerInstruction[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: DockerInstruction[] = [];
  let current = '';
  let stage = '';
  let stages = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (current && line.startsWith('#')) continue;
    current += `${current ? ' ' : ''}${line.replace(/\\$/, '').trim()}`;
    if (line.endsWith('\\')) continue;
    const [keyword = '', ...rest] = current.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages++);
    out.push({ keyword: keyword.toUpperCase(), args, stage });
    current = '';
  }
  return out;
}

function dockerignorePattern(pattern: string): RegExp {
  let p = pattern.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p.startsWith('./')) p = p.slice(2);
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      // `**/` matches any number of folders, none included.
      if (p[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * `.dockerignore` as the Docker CLI applies it: a path is left out when the last pattern that matches it,
 * or one of its parent folders, is not a `!` exception.
 */
export function createDockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ exclude: !l.startsWith('!'), re: dockerignorePattern(l.replace(/^!/, '')) }));
  return (path: string) => {
    const parts = path.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = rule.exclude;
          break;
        }
      }
    }
    return excluded;
  };
}

/** Files of the build context rooted at `root` (as paths relative to it), after `.dockerignore`. */
export function buildContext(root: string): Set<string> {
  const ignored = createDockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
  const files = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(root, path);
      // Never descend into these: huge, and excluded anyway (the test checks that separately).
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      if (entry.isDirectory()) walk(path);
      else if (!ignored(rel)) files.add(rel);
    }
  };
  walk(root);
  return files;
}

/** Whether `source` (a COPY source relative to the context) names a file, or a folder holding files, in it. */
export function inContext(context: ReadonlySet<string>, source: string): boolean {
  const s = source.replace(/^\.\//, '').replace(/\/+$/, '');
  if (s === '.' || s === '') return context.size > 0;
  if (context.has(s)) return true;
  for (const f of context) if (f.startsWith(`${s}/`)) return true;
  return false;
}
