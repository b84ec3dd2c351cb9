import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeSupergraph, type GatewayConfig, loadConfig } from '@tollgate/gateway';
import { createDb, listServices } from '@tollgate/kit';
import { createTestDatabase, type TestDatabase } from '@tollgate/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildContext,
  containersOf,
  createDockerignore,
  type DockerInstruction,
  inContext,
  interpolate,
  isObject,
  type Json,
  type JsonObject,
  type K8sObject,
  readDockerfile,
  readYaml,
  renderKustomization,
  strategicMerge,
} from '../infra/manifests.ts';

// The deployment files, checked without the tools that would apply them: infra/k8s rendered by a kustomize
// subset and validated against the Kubernetes schemas (kubernetes-models), infra/docker-compose.yml parsed,
// both cross-checked against what the code serves and reads; the Dockerfiles read against the build context.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INFRA = join(ROOT, 'infra');
/** WORKDIR of both images: what /app/… paths in the configs stand for in this repo. */
const IMAGE_ROOT = '/app';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the build argument as services/Dockerfile spells it
const SERVICE_ARG = '${SERVICE}';
const SERVICES = listServices().map((s) => s.name);
const LOCK = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; name?: string }>;
};
const tmp = mkdtempSync(join(tmpdir(), 'tollgate-infra-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Jaeger v2: Jaeger v1 (`jaegertracing/all-in-one`) is past its end of life. */
const JAEGER_V2 = /^jaegertracing\/jaeger:2\.\d+\.\d+$/;
/** The migration entry point in the subgraph images: the compiled infra/bin/migrate.ts. */
const MIGRATE_COMMAND = ['node', `${IMAGE_ROOT}/dist/infra/bin/migrate.js`];

// ---- small typed accessors over parsed YAML ----

function obj(v: Json | undefined, what: string): JsonObject {
  if (!isObject(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}
function arr(v: Json | undefined, what: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list`);
  return v;
}
function str(v: Json | undefined, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}
const labelsMatch = (selector: JsonObject, labels: JsonObject) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

// ---- what the code reads ----

const SOURCE_ROOTS = ['gateway/src', 'gateway/bin', 'services', 'scripts', 'infra/bin'];
let sourceCache: string | undefined;
/** The non-test sources of every process our images run. */
function sources(): string {
  if (sourceCache !== undefined) return sourceCache;
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'test' || e.name === 'templates') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name))
        texts.push(readFileSync(p, 'utf8'));
    }
  };
  for (const r of SOURCE_ROOTS) if (existsSync(join(ROOT, r))) walk(join(ROOT, r));
  sourceCache = texts.join('\n');
  return sourceCache;
}

// Standard OpenTelemetry variables: read by the SDK the gateway and kit depend on, not by our code.
const OTEL_VARIABLES = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'];
const OTEL_SDK_DIRS = ['core', 'resources', 'sdk-node', 'otlp-exporter-base'].map((p) =>
  join(ROOT, 'node_modules', '@opentelemetry', p, 'build', 'src'),
);
function readByOtelSdk(name: string): boolean {
  const grep = (dir: string): boolean =>
    existsSync(dir) &&
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? grep(join(dir, e.name))
        : e.name.endsWith('.js') && readFileSync(join(dir, e.name), 'utf8').includes(name),
    );
  return OTEL_VARIABLES.includes(name) && OTEL_SDK_DIRS.some(grep);
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
/** Where GATEWAY_<SECTION>_<KEY> lands in the config, by the loader's own rule; undefined if nowhere. */
function gatewayEnvPath(name: string, config: GatewayConfig): [string, string] | undefined {
  const rest = name.slice('GATEWAY_'.length);
  const section = Object.keys(config).find((s) => rest.toLowerCase().startsWith(`${s.toLowerCase()}_`));
  return section ? [section, camel(rest.slice(section.length + 1))] : undefined;
}

/**
 * Fails unless every variable in `env` is read: by our code (`env.NAME`), by the OpenTelemetry SDK
 * (standard OTEL_* names), or, for GATEWAY_<SECTION>_<KEY>, lands on that key of the loaded config.
 */
function expectEnvRead(env: Record<string, string>, where: string, config?: GatewayConfig): void {
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('GATEWAY_') && name !== 'GATEWAY_CONFIG') {
      expect(config, `${where}: ${name} set on a container that is not a gateway`).toBeDefined();
      const path = gatewayEnvPath(name, config!);
      expect(path, `${where}: ${name} names no config section`).toBeDefined();
      const [section, key] = path!;
      const landed = (config as unknown as Record<string, Record<string, unknown>>)[section]?.[key];
      expect(String(landed), `${where}: ${name} should set ${section}.${key}`).toBe(value);
      continue;
    }
    const read = new RegExp(`(?:env\\.|env\\[['"\`])${name}\\b`).test(sources()) || readByOtelSdk(name);
    expect(read, `${where}: ${name} is set but nothing reads it`).toBe(true);
  }
}

/** A gateway config file as the gateway loads it (file < env < CLI), from a temporary copy. */
function loadGatewayConfig(text: string, env: Record<string, string>): GatewayConfig {
  const file = join(tmp, `gateway-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return loadConfig({ flags: { configFile: file }, env, cwd: tmp });
}

/** `/app/services/x/schema.graphql` in the image → the repo file it was copied from. */
function repoPathOf(imagePath: string): string {
  expect(imagePath.startsWith(`${IMAGE_ROOT}/`), `${imagePath} is not under ${IMAGE_ROOT}`).toBe(true);
  return join(ROOT, imagePath.slice(IMAGE_ROOT.length + 1));
}

/** The subgraph schema files a config names exist in the repo (so in the image) and compose. */
function expectSchemaFilesCompose(config: GatewayConfig): void {
  expect(config.subgraphs.map((s) => s.name).sort()).toEqual([...SERVICES].sort());
  const sdls = config.subgraphs.map((s) => {
    expect(s.schemaFile, `${s.name}: schemaFile`).toBe(`${IMAGE_ROOT}/services/${s.name}/schema.graphql`);
    return {
      name: s.name,
      url: 'http://localhost/graphql',
      sdl: readFileSync(repoPathOf(s.schemaFile!), 'utf8'),
    };
  });
  expect(composeSupergraph(sdls)).toContain('join__Graph');
}

function preStopSeconds(container: JsonObject): number {
  const preStop = obj(obj(container.lifecycle, 'lifecycle').preStop, 'preStop');
  if (isObject(preStop.sleep)) return Number(preStop.sleep.seconds);
  const command = arr(obj(preStop.exec, 'preStop.exec').command, 'command').map(String);
  expect(command[0]).toBe('sleep');
  return Number(command[1]);
}

// ---- Kubernetes ----

type Model = new (data: unknown) => { validate(): void };
async function modelOf(o: K8sObject): Promise<Model> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [undefined, o.apiVersion];
  const specifier = `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
  const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, Model>;
  const model = mod[o.kind];
  if (!model) throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  return model;
}

// kubernetes-models accepts unknown fields; `kubectl apply` (strict field validation) does not. Every
// field name its validators know, to catch a misspelt or misplaced key.
let vocabulary: Set<string> | undefined;
function knownFields(): Set<string> {
  if (vocabulary) return vocabulary;
  const words = new Set<string>();
  // The validators name the properties they check; the type declarations name every property.
  const scan = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) scan(p);
      else if (e.name.endsWith('.mjs') && dir.endsWith('_schemas')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/data\.([A-Za-z_$][\w$]*)|data\["([^"]+)"\]/g))
          words.add(m[1] ?? m[2]!);
      } else if (e.name.endsWith('.d.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/^\s*"([A-Za-z_$][\w$-]*)"\??:/gm)) words.add(m[1]!);
      }
    }
  };
  for (const pkg of ['kubernetes-models', '@kubernetes-models/apimachinery'])
    scan(join(ROOT, 'node_modules', pkg));
  vocabulary = words;
  return words;
}
// Values that are free-form maps (label keys, ConfigMap keys, resource names).
const FREE_FORM = new Set([
  'labels',
  'annotations',
  'matchLabels',
  'data',
  'stringData',
  'binaryData',
  'requests',
  'limits',
  'nodeSelector',
]);
function unknownFields(value: Json, path: string, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) unknownFields(v, `${path}[${i}]`, out);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (!knownFields().has(k)) out.push(`${path}.${k}`);
      // A Service's selector is a label map; a workload's is a LabelSelector.
      const labelMap = k === 'selector' && isObject(v) && !('matchLabels' in v) && !('matchExpressions' in v);
      if (!FREE_FORM.has(k) && !labelMap) unknownFields(v, `${path}.${k}`, out);
    }
  }
  return out;
}

interface Workload {
  obj: K8sObject;
  pod: JsonObject;
  labels: JsonObject;
  containers: JsonObject[];
}
function workloads(objects: K8sObject[]): Workload[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind))
    .map((o) => {
      const template = obj(obj(o.spec, 'spec').template, `${o.kind} ${o.metadata.name} template`);
      return {
        obj: o,
        pod: obj(template.spec, 'pod spec'),
        labels: obj(obj(template.metadata, 'template metadata').labels, 'pod labels'),
        containers: containersOf(o),
      };
    });
}
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
function containerPort(w: Workload, port: Json | undefined): number | undefined {
  if (typeof port === 'number')
    return w.containers.some((c) => arr(c.ports, 'ports').some((p) => obj(p, 'port').containerPort === port))
      ? port
      : undefined;
  for (const c of w.containers)
    for (const p of arr(c.ports, 'ports'))
      if (obj(p, 'port').name === port) return Number(obj(p, 'port').containerPort);
  return undefined;
}

/** A container's environment with Secret and ConfigMap references resolved from the rendering. */
function effectiveEnv(objects: K8sObject[], c: JsonObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of arr(c.env, 'env').map((x) => obj(x, 'env'))) {
    const name = str(e.name, 'env name');
    if (typeof e.value === 'string') env[name] = e.value;
    else {
      const from = obj(e.valueFrom, `${name}.valueFrom`);
      const ref = obj(from.secretKeyRef ?? from.configMapKeyRef, `${name} reference`);
      env[name] = lookupKey(
        objects,
        from.secretKeyRef ? 'Secret' : 'ConfigMap',
        str(ref.name, 'ref name'),
        str(ref.key, 'ref key'),
      )!;
    }
  }
  return env;
}
function lookupKey(
  objects: K8sObject[],
  kind: 'Secret' | 'ConfigMap',
  name: string,
  key: string,
): string | undefined {
  const o = find(objects, kind, name);
  if (!o) return undefined;
  if (isObject(o.stringData) && typeof o.stringData[key] === 'string') return o.stringData[key];
  if (isObject(o.data) && typeof o.data[key] === 'string')
    return kind === 'Secret' ? Buffer.from(o.data[key], 'base64').toString('utf8') : o.data[key];
  return undefined;
}

/** The file a container sees at `path`, read from the ConfigMap volume mounted over it. */
function mountedFile(objects: K8sObject[], w: Workload, c: JsonObject, path: string): string {
  const mount = arr(c.volumeMounts, 'volumeMounts')
    .map((m) => obj(m, 'mount'))
    .find((m) => path.startsWith(`${str(m.mountPath, 'mountPath')}/`));
  expect(mount, `nothing is mounted over ${path}`).toBeDefined();
  expect(mount!.subPath, 'a subPath mount never sees ConfigMap updates').toBeUndefined();
  const volume = arr(w.pod.volumes, 'volumes')
    .map((v) => obj(v, 'volume'))
    .find((v) => v.name === mount!.name);
  const configMap = obj(obj(volume, 'volume').configMap, `volume ${String(mount!.name)} configMap`);
  const key = path.slice(str(mount!.mountPath, 'mountPath').length + 1);
  const text = lookupKey(objects, 'ConfigMap', str(configMap.name, 'configMap name'), key);
  expect(text, `ConfigMap ${String(configMap.name)} has no key ${key}`).toBeDefined();
  return text!;
}

const OURS = /(^|\/)tollgate\/(gateway|[a-z][a-z0-9-]*)(:|$)/;
const isOurImage = (c: JsonObject) => OURS.test(String(c.image));

interface GatewayView {
  w: Workload;
  container: JsonObject;
  env: Record<string, string>;
  config: GatewayConfig;
}
function gatewayOf(objects: K8sObject[]): GatewayView {
  const w = workloads(objects).find((x) => x.obj.kind === 'Deployment' && x.obj.metadata.name === 'gateway');
  expect(w, 'a gateway Deployment').toBeDefined();
  const container = w!.containers.find((c) => c.name === 'gateway')!;
  const env = effectiveEnv(objects, container);
  const args = arr(container.args, 'args').map(String);
  const at = args.indexOf('--config');
  expect(at, 'the gateway is started with --config').toBeGreaterThanOrEqual(0);
  const rest = args.filter((_, i) => i !== at && i !== at + 1);
  // every other setting is in the mounted file or the env, where this test reads it
  expect(rest, 'the gateway container has no flags besides --config').toEqual([]);
  const config = loadGatewayConfig(mountedFile(objects, w!, container, args[at + 1]!), env);
  return { w: w!, container, env, config };
}

const RENDERINGS = ['base', 'overlays/dev', 'overlays/aws'] as const;
const rendered = new Map<string, K8sObject[]>();
const render = (name: string) => {
  // secrets.env is never committed: its .example stands in (kubectl kustomize needs the real one)
  if (!rendered.has(name))
    rendered.set(name, renderKustomization(join(INFRA, 'k8s', name), { examplesForMissingFiles: true }));
  return rendered.get(name)!;
};

describe('the kustomize subset renderer', () => {
  it('refuses a kustomization field it does not implement', () => {
    const dir = mkdtempSync(join(tmp, 'k-'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncommonLabels: { a: b }\n',
    );
    expect(() => renderKustomization(dir)).toThrow(/commonLabels is outside the supported kustomize subset/);
  });

  it('merges containers and env by name, replaces other lists, deletes on null', () => {
    const base: Json = {
      spec: {
        containers: [{ name: 'a', args: ['x'], env: [{ name: 'A', value: '1' }] }, { name: 'b' }],
        keep: 1,
        drop: 2,
      },
    };
    const patch: Json = {
      spec: { containers: [{ name: 'a', args: ['y'], env: [{ name: 'B', value: '2' }] }], drop: null },
    };
    expect(strategicMerge(base, patch)).toEqual({
      spec: {
        containers: [
          {
            name: 'a',
            args: ['y'],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
          { name: 'b' },
        ],
        keep: 1,
      },
    });
  });
});

describe.each(RENDERINGS)('infra/k8s/%s', (name) => {
  it('renders objects that validate against the Kubernetes schemas, with no unknown fields', async () => {
    const objects = render(name);
    expect(objects.length).toBeGreaterThan(10);
    const seen = new Set<string>();
    for (const o of objects) {
      const id = `${o.kind}/${o.metadata.name}`;
      expect(seen.has(id), `${id} twice`).toBe(false);
      seen.add(id);
      expect(o.kind === 'Namespace' || o.metadata.namespace === 'tollgate', `${id} namespace`).toBe(true);
      const Model = await modelOf(o);
      expect(() => new Model(o).validate(), id).not.toThrow();
      expect(unknownFields(o, id)).toEqual([]);
    }
  });

  it('selects pods with every Service and reaches a container port with every target port', () => {
    const objects = render(name);
    const ws = workloads(objects);
    // a Job's selector is generated by the API server
    for (const w of ws.filter((x) => x.obj.kind !== 'Job')) {
      const selector = obj(obj(obj(w.obj.spec, 'spec').selector, 'selector').matchLabels, 'matchLabels');
      expect(labelsMatch(selector, w.labels), `${w.obj.metadata.name}: selector matches its pod labels`).toBe(
        true,
      );
    }
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const spec = obj(svc.spec, 'spec');
      const selected = ws.filter((w) => labelsMatch(obj(spec.selector, 'selector'), w.labels));
      expect(
        selected.map((w) => w.obj.metadata.name),
        `Service ${svc.metadata.name} selects one workload`,
      ).toHaveLength(1);
      for (const p of arr(spec.ports, 'ports').map((x) => obj(x, 'port'))) {
        expect(
          containerPort(selected[0]!, p.targetPort ?? p.port),
          `Service ${svc.metadata.name} port ${String(p.name)}`,
        ).toBeDefined();
      }
    }
    // A StatefulSet's serviceName names its Service.
    for (const w of ws.filter((x) => x.obj.kind === 'StatefulSet')) {
      expect(find(objects, 'Service', str(obj(w.obj.spec, 'spec').serviceName, 'serviceName'))).toBeDefined();
    }
  });

  it('has every ConfigMap and Secret (and key) that a pod refers to', () => {
    const objects = render(name);
    const refs: string[] = [];
    for (const w of workloads(objects)) {
      for (const v of arr(w.pod.volumes, 'volumes').map((x) => obj(x, 'volume'))) {
        if (isObject(v.configMap))
          expect(
            find(objects, 'ConfigMap', str(v.configMap.name, 'name')),
            `ConfigMap ${String(v.configMap.name)}`,
          ).toBeDefined();
        if (isObject(v.secret))
          expect(
            find(objects, 'Secret', str(v.secret.secretName, 'name')),
            `Secret ${String(v.secret.secretName)}`,
          ).toBeDefined();
      }
      for (const c of w.containers) {
        for (const e of arr(c.env, 'env').map((x) => obj(x, 'env'))) {
          if (!isObject(e.valueFrom)) continue;
          const secret = e.valueFrom.secretKeyRef;
          const configMap = e.valueFrom.configMapKeyRef;
          const [kind, ref] = isObject(secret)
            ? (['Secret', secret] as const)
            : (['ConfigMap', obj(configMap, 'configMapKeyRef')] as const);
          refs.push(`${kind} ${String(ref.name)}.${String(ref.key)}`);
          expect(
            lookupKey(objects, kind, str(ref.name, 'name'), str(ref.key, 'key')),
            `${w.obj.metadata.name}/${String(c.name)} ${String(e.name)}: ${kind} ${String(ref.name)} key ${String(ref.key)}`,
          ).toBeDefined();
        }
        for (const e of arr(c.envFrom, 'envFrom').map((x) => obj(x, 'envFrom'))) {
          if (isObject(e.secretRef))
            expect(find(objects, 'Secret', str(e.secretRef.name, 'name'))).toBeDefined();
          if (isObject(e.configMapRef))
            expect(find(objects, 'ConfigMap', str(e.configMapRef.name, 'name'))).toBeDefined();
        }
      }
    }
    expect(refs).toContain('Secret tollgate-secrets.TOLLGATE_SIGNING_SECRET');
  });

  it('runs the gateway stateless and highly available: ≥2 replicas, HPA, PDB, LoadBalancer, probes, graceful stop', () => {
    const objects = render(name);
    const { w, container, config } = gatewayOf(objects);
    const spec = obj(w.obj.spec, 'spec');
    // the autoscaler owns the count: a `replicas` here would reset it on every apply
    expect(spec.replicas, 'no replicas on a Deployment the HPA scales').toBeUndefined();

    const port = containerPort(w, 'http');
    expect(port, 'the gateway container port is the configured server.port').toBe(config.server.port);
    expect(config.server.host).toBe('0.0.0.0');
    const probe = (kind: string) => obj(obj(container[kind], kind).httpGet, `${kind}.httpGet`);
    expect(probe('readinessProbe').path).toBe('/health/ready');
    expect(probe('livenessProbe').path).toBe('/health/live');
    for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      if (container[kind] === undefined) continue;
      expect(containerPort(w, probe(kind).port), `${kind} port`).toBe(config.server.port);
    }
    expect(obj(container.resources, 'resources').requests).toBeDefined();

    // SIGTERM comes after preStop; the gateway then drains for up to shutdownGraceMs. Both must fit.
    const grace = Number(w.pod.terminationGracePeriodSeconds);
    expect(grace * 1000).toBeGreaterThan(preStopSeconds(container) * 1000 + config.server.shutdownGraceMs);

    const hpa = find(objects, 'HorizontalPodAutoscaler', 'gateway')!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    const hpaSpec = obj(hpa.spec, 'hpa spec');
    expect(hpaSpec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(Number(hpaSpec.minReplicas)).toBeGreaterThanOrEqual(2);
    expect(Number(hpaSpec.maxReplicas)).toBeGreaterThan(Number(hpaSpec.minReplicas));

    const pdb = obj(find(objects, 'PodDisruptionBudget', 'gateway')?.spec, 'PodDisruptionBudget gateway');
    expect(labelsMatch(obj(obj(pdb.selector, 'selector').matchLabels, 'matchLabels'), w.labels)).toBe(true);
    expect(
      pdb.maxUnavailable ?? Number(hpaSpec.minReplicas) - Number(pdb.minAvailable),
    ).toBeGreaterThanOrEqual(1);

    const svc = obj(find(objects, 'Service', 'gateway')?.spec, 'Service gateway');
    expect(svc.type).toBe('LoadBalancer');
    expect(labelsMatch(obj(svc.selector, 'selector'), w.labels)).toBe(true);

    // the admin listener: a container port of its own on the pod's address, annotated for Prometheus,
    // never behind the load balancer
    const admin = config.server.adminPort;
    expect(admin, 'server.adminPort is set').toBeDefined();
    expect(admin).not.toBe(config.server.port);
    expect(containerPort(w, 'admin')).toBe(admin);
    expect(config.server.adminHost).toBe('0.0.0.0');
    const template = obj(obj(w.obj.spec, 'spec').template, 'template');
    const annotations = obj(obj(template.metadata, 'template metadata').annotations, 'pod annotations');
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(admin),
      'prometheus.io/path': '/metrics',
    });
    for (const p of arr(svc.ports, 'ports').map((x) => obj(x, 'port')))
      expect(containerPort(w, p.targetPort ?? p.port), 'the Service reaches the public port only').toBe(
        config.server.port,
      );
  });

  it('runs every subgraph as a Deployment behind a headless Service that the gateway discovers by DNS', () => {
    const objects = render(name);
    const { config } = gatewayOf(objects);
    const ws = workloads(objects);
    const ttlSec = 5; // what cluster DNS gives Service records
    for (const sg of config.subgraphs) {
      expect(sg.replicas, `${sg.name}: one dns:// entry`).toHaveLength(1);
      const url = new URL(sg.replicas[0]!);
      expect(url.protocol).toBe('dns:');
      expect(url.pathname).toBe('/graphql');
      const svc = find(objects, 'Service', url.hostname);
      expect(svc, `${sg.name}: Service ${url.hostname}`).toBeDefined();
      const spec = obj(svc!.spec, 'spec');
      expect(spec.clusterIP, `${url.hostname} is headless`).toBe('None');
      const servicePort = arr(spec.ports, 'ports')
        .map((p) => obj(p, 'port'))
        .find((p) => p.port === Number(url.port));
      expect(servicePort, `${url.hostname} serves port ${url.port}`).toBeDefined();
      const w = ws.find((x) => labelsMatch(obj(spec.selector, 'selector'), x.labels))!;
      expect(w.obj.kind).toBe('Deployment');
      expect(Number(obj(w.obj.spec, 'spec').replicas)).toBeGreaterThanOrEqual(2);
      const main = w.containers.find((c) => c.name === sg.name)!;
      expect(main, `${sg.name}: a container named after the subgraph`).toBeDefined();
      expect(String(main.image)).toMatch(new RegExp(`tollgate/${sg.name}:`));
      const env = effectiveEnv(objects, main);
      // The subgraph listens where the Service sends traffic: PORT on all interfaces.
      expect(containerPort(w, servicePort!.targetPort)).toBe(Number(env.PORT));
      expect(env.HOST).toBe('0.0.0.0');
      const readiness = obj(obj(main.readinessProbe, 'readinessProbe').httpGet, 'readiness httpGet');
      expect(readiness.path).toBe('/health');
      expect(containerPort(w, readiness.port)).toBe(Number(env.PORT));
      expect(main.livenessProbe).toBeDefined();
      // A stopping replica stays up until every gateway's pool has re-resolved the name without it.
      const preStop = preStopSeconds(main);
      expect(preStop).toBeGreaterThanOrEqual(config.pool.discovery.refreshMs / 1000 + ttlSec);
      expect(Number(w.pod.terminationGracePeriodSeconds)).toBeGreaterThan(preStop + 10);
      // Migrations run once per apply in a Job of their own, from the same image, not in every pod.
      expect(w.pod.initContainers, `${sg.name}: no init container migrates in every pod`).toBeUndefined();
      const job = ws.find((x) => x.obj.kind === 'Job' && x.obj.metadata.name === `${sg.name}-migrate`);
      expect(job, `${sg.name}: a Job ${sg.name}-migrate`).toBeDefined();
      const [migrate, ...more] = job!.containers;
      expect(more).toEqual([]);
      expect(migrate!.image).toBe(main.image);
      expect(arr(migrate!.command, 'command')).toEqual(MIGRATE_COMMAND);
      expect(['OnFailure', 'Never']).toContain(job!.pod.restartPolicy);
      expect(effectiveEnv(objects, migrate!).DATABASE_URL).toBe(env.DATABASE_URL);
      // the Job's pods are no replicas: the subgraph's Service must not select them
      expect(labelsMatch(obj(spec.selector, 'selector'), job!.labels)).toBe(false);
    }
    expect(config.pool.healthCheck.path, 'the pool checks subgraphs on their health route').toBe('/health');
  });

  it('mounts a gateway config that validates against the config schema and names subgraphs that compose', () => {
    const { config, env } = gatewayOf(render(name));
    expectSchemaFilesCompose(config);
    expect(config.auth.signing.secret, 'TOLLGATE_SIGNING_SECRET reaches auth.signing.secret').toBe(
      env.TOLLGATE_SIGNING_SECRET,
    );
    expect(config.redis.url).toBe(env.REDIS_URL);
  });

  it('wires the stores and tracing the code expects: PostgreSQL 15, Redis 7, Jaeger OTLP on 4318', () => {
    const objects = render(name);
    const ws = workloads(objects);
    const image = (n: string) => String(ws.find((w) => w.obj.metadata.name === n)?.containers[0]?.image);
    expect(image('postgres')).toMatch(/^postgres:15(\b|$)/);
    expect(image('redis')).toMatch(/^redis:7(\b|$)/);
    expect(image('jaeger')).toMatch(JAEGER_V2);
    for (const s of ['postgres', 'redis']) {
      const set = ws.find((w) => w.obj.metadata.name === s)!;
      expect(set.obj.kind).toBe('StatefulSet');
      expect(arr(obj(set.obj.spec, 'spec').volumeClaimTemplates, 'volumeClaimTemplates').length).toBe(1);
    }
    const servicePort = (n: string, port: number) =>
      arr(obj(find(objects, 'Service', n)?.spec, `Service ${n}`).ports, 'ports').some(
        (p) => obj(p, 'port').port === port,
      );
    const secret = (key: string) => lookupKey(objects, 'Secret', 'tollgate-secrets', key)!;
    const db = new URL(secret('DATABASE_URL'));
    expect(
      servicePort(db.hostname, Number(db.port || 5432)),
      'DATABASE_URL points at the postgres Service',
    ).toBe(true);
    expect(decodeURIComponent(db.password), 'DATABASE_URL carries POSTGRES_PASSWORD').toBe(
      secret('POSTGRES_PASSWORD'),
    );
    const redis = new URL(secret('REDIS_URL'));
    expect(servicePort(redis.hostname, Number(redis.port || 6379))).toBe(true);
    expect(secret('TOLLGATE_SIGNING_SECRET').length).toBeGreaterThanOrEqual(32);
    for (const w of ws) {
      for (const c of w.containers.filter(isOurImage)) {
        const endpoint = effectiveEnv(objects, c).OTEL_EXPORTER_OTLP_ENDPOINT;
        if (endpoint === undefined) continue;
        const u = new URL(endpoint);
        expect(u.port).toBe('4318');
        expect(servicePort(u.hostname, 4318), `${String(c.name)}: OTLP endpoint`).toBe(true);
        expect(servicePort(u.hostname, 4317), 'OTLP over gRPC too').toBe(true);
      }
    }
  });

  it('sets only environment variables the code reads on our containers', () => {
    const objects = render(name);
    const { config } = gatewayOf(objects);
    for (const w of workloads(objects)) {
      for (const c of w.containers.filter(isOurImage)) {
        expectEnvRead(
          effectiveEnv(objects, c),
          `${w.obj.metadata.name}/${String(c.name)}`,
          w.obj.metadata.name === 'gateway' ? config : undefined,
        );
      }
    }
  });
});

// ---- NetworkPolicy, as the API server applies it (ingress, the parts these manifests use) ----

/** Whether a pod selector (a LabelSelector; `{}` selects every pod) selects pods with these labels. */
function selects(selector: Json | undefined, labels: JsonObject): boolean {
  const sel = obj(selector ?? {}, 'podSelector');
  if (sel.matchExpressions !== undefined) throw new Error('matchExpressions is not evaluated here');
  const match = obj(sel.matchLabels ?? {}, 'matchLabels');
  return Object.entries(match).every(([k, v]) => labels[k] === v);
}

/**
 * Whether the rendered NetworkPolicies let a connection reach `target` on `port`, from a pod of the
 * namespace with `source` labels, or from outside the namespace (`source` undefined). A pod no policy
 * selects is open; a selected pod admits what one of its policies' rules allows.
 */
function admits(
  objects: K8sObject[],
  target: Workload,
  source: JsonObject | undefined,
  port: number,
): boolean {
  const policies = objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => obj(o.spec, `NetworkPolicy ${o.metadata.name}`))
    .filter((spec) => selects(spec.podSelector, target.labels))
    .filter((spec) => arr(spec.policyTypes ?? ['Ingress'], 'policyTypes').includes('Ingress'));
  if (policies.length === 0) return true;
  return policies.some((spec) =>
    arr(spec.ingress, 'ingress').some((raw) => {
      const rule = obj(raw, 'ingress rule');
      const from = arr(rule.from, 'from').map((p) => obj(p, 'peer'));
      const peerOk =
        from.length === 0 ||
        from.some((peer) => {
          if (peer.ipBlock !== undefined) throw new Error('ipBlock is not evaluated here');
          // a podSelector alone means pods of this namespace
          if (peer.namespaceSelector !== undefined)
            throw new Error('namespaceSelector is not evaluated here');
          return source !== undefined && selects(peer.podSelector, source);
        });
      const ports = arr(rule.ports, 'ports').map((p) => obj(p, 'port'));
      const portOk =
        ports.length === 0 ||
        ports.some((p) => (typeof p.port === 'number' ? p.port : containerPort(target, p.port)) === port);
      return peerOk && portOk;
    }),
  );
}

/** The workload and container port a `host:port` inside the cluster reaches, through its Service. */
function reached(objects: K8sObject[], host: string, port: number): { w: Workload; port: number } {
  const svc = find(objects, 'Service', host);
  expect(svc, `a Service ${host}`).toBeDefined();
  const spec = obj(svc!.spec, 'spec');
  const w = workloads(objects).find(
    (x) => x.obj.kind !== 'Job' && labelsMatch(obj(spec.selector, 'selector'), x.labels),
  )!;
  const p = arr(spec.ports, 'ports')
    .map((x) => obj(x, 'port'))
    .find((x) => x.port === port);
  expect(p, `Service ${host} port ${port}`).toBeDefined();
  return { w, port: containerPort(w, p!.targetPort ?? p!.port)! };
}

describe.each(RENDERINGS)('infra/k8s/%s: scaling, migrations, secrets and network policy', (name) => {
  it('sets no replicas on a workload that an autoscaler scales', () => {
    const objects = render(name);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.length).toBeGreaterThan(0);
    for (const hpa of hpas) {
      const ref = obj(obj(hpa.spec, 'spec').scaleTargetRef, 'scaleTargetRef');
      const target = find(objects, str(ref.kind, 'kind'), str(ref.name, 'name'));
      expect(target, `HPA ${hpa.metadata.name} scales something that exists`).toBeDefined();
      expect(
        obj(target!.spec, 'spec').replicas,
        `${ref.kind} ${ref.name}: replicas beside an HPA`,
      ).toBeUndefined();
    }
  });

  it('migrates each service in a Job of its own, and in no pod of a Deployment', () => {
    const objects = render(name);
    const ws = workloads(objects);
    // the subgraphs the cluster's gateway config names (the test above holds those to the repo's services)
    for (const s of gatewayOf(objects).config.subgraphs.map((x) => x.name)) {
      const jobs = ws.filter((w) => w.obj.kind === 'Job' && w.containers.some((c) => c.name === 'migrate'));
      const job = jobs.find((w) => String(w.containers[0]!.image).match(new RegExp(`tollgate/${s}:`)));
      expect(job?.obj.metadata.name, `${s}: a migration Job`).toBe(`${s}-migrate`);
      expect(arr(job!.containers[0]!.command, 'command')).toEqual(MIGRATE_COMMAND);
    }
    for (const w of ws.filter((x) => x.obj.kind !== 'Job'))
      for (const c of w.containers)
        expect(arr(c.command, 'command'), `${w.obj.metadata.name}/${String(c.name)}`).not.toEqual(
          MIGRATE_COMMAND,
        );
  });

  it('denies ingress by default and lets each pod reach exactly what it is configured to use', () => {
    const objects = render(name);
    const ws = workloads(objects).filter((w) => w.obj.kind !== 'Job');
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = policies.find((p) => {
      const spec = obj(p.spec, 'spec');
      return (
        Object.keys(obj(spec.podSelector, 'podSelector')).length === 0 &&
        arr(spec.policyTypes, 'policyTypes').includes('Ingress') &&
        arr(spec.ingress, 'ingress').length === 0
      );
    });
    expect(deny, 'a default-deny ingress policy').toBeDefined();

    const { w: gateway, config } = gatewayOf(objects);
    const intruder: JsonObject = { 'app.kubernetes.io/name': 'intruder' };
    for (const w of ws) {
      const ports = w.containers.flatMap((c) =>
        arr(c.ports, 'ports').map((p) => Number(obj(p, 'port').containerPort)),
      );
      for (const port of ports) {
        const open = w.obj === gateway.obj && port === config.server.port;
        // the collector takes OTLP from any pod of the namespace, not from outside it
        const otlp = w.obj.metadata.name === 'jaeger' && (port === 4317 || port === 4318);
        expect(admits(objects, w, intruder, port), `${w.obj.metadata.name}:${port} from another pod`).toBe(
          open || otlp,
        );
        expect(admits(objects, w, undefined, port), `${w.obj.metadata.name}:${port} from outside`).toBe(open);
      }
    }
    // the admin port (/metrics, /admin/*) admits Prometheus, and nothing else
    const prometheus: JsonObject = { 'app.kubernetes.io/name': 'prometheus' };
    expect(admits(objects, gateway, prometheus, config.server.adminPort!), 'Prometheus → admin').toBe(true);
    expect(admits(objects, gateway, prometheus, 4001), 'Prometheus → other ports').toBe(false);
    // the gateway reaches every subgraph; one subgraph does not reach another
    for (const sg of config.subgraphs) {
      const url = new URL(sg.replicas[0]!);
      const { w, port } = reached(objects, url.hostname, Number(url.port));
      expect(port).toBe(4001);
      expect(admits(objects, w, gateway.labels, port), `gateway → ${sg.name}`).toBe(true);
      for (const other of ws.filter((x) => x.obj !== w.obj && x.obj !== gateway.obj))
        expect(admits(objects, w, other.labels, port), `${other.obj.metadata.name} → ${sg.name}`).toBe(false);
    }
    // every container (migration Jobs included) reaches the stores and the collector its environment names
    const needs: [string, number][] = [
      ['DATABASE_URL', 5432],
      ['REDIS_URL', 6379],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 4318],
    ];
    let checked = 0;
    for (const w of workloads(objects)) {
      for (const c of w.containers.filter(isOurImage)) {
        const env = effectiveEnv(objects, c);
        for (const [variable, fallback] of needs) {
          if (env[variable] === undefined) continue;
          const u = new URL(env[variable]!);
          const to = reached(objects, u.hostname, Number(u.port || fallback));
          expect(admits(objects, to.w, w.labels, to.port), `${w.obj.metadata.name} → ${variable}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(config.subgraphs.length * 4);
    // OTLP over gRPC too, from any pod of the namespace
    const jaeger = reached(objects, 'jaeger', 4317);
    expect(admits(objects, jaeger.w, intruder, jaeger.port)).toBe(true);
  });
});

describe('infra/k8s secrets', () => {
  const base = join(INFRA, 'k8s', 'base');
  it('keeps no secret value in the base: the Secret is generated from an uncommitted env file', () => {
    const k = obj(readYaml(join(base, 'kustomization.yaml')), 'kustomization');
    // no Secret among the resource files
    for (const r of arr(k.resources, 'resources').map(String)) {
      const path = join(base, r);
      if (!r.endsWith('.yaml')) continue;
      const docs = readFileSync(path, 'utf8');
      expect(/^kind:\s*Secret\s*$/m.test(docs), `${r} holds a Secret`).toBe(false);
    }
    const generators = arr(k.secretGenerator, 'secretGenerator').map((g) => obj(g, 'secretGenerator'));
    expect(generators.map((g) => g.name)).toEqual(['tollgate-secrets']);
    for (const g of generators) {
      expect(g.literals, 'literal secret values').toBeUndefined();
      for (const file of arr(g.envs, 'envs').map(String)) {
        // ignored by git, and an example beside it with every key the pods read
        const ignore = readFileSync(join(base, '.gitignore'), 'utf8')
          .split('\n')
          .map((l) => l.trim());
        expect(ignore, `${file} is git-ignored`).toContain(file);
        expect(existsSync(join(base, `${file}.example`)), `${file}.example`).toBe(true);
      }
    }
    // without the file (or its example) the rendering fails, as kubectl kustomize would
    const dir = mkdtempSync(join(tmp, 'secrets-'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n  - name: s\n    envs: [secrets.env]\ngeneratorOptions: { disableNameSuffixHash: true }\n',
    );
    expect(() => renderKustomization(dir)).toThrow(/secrets\.env does not exist/);
    writeFileSync(join(dir, 'secrets.env'), '# a comment\nA=1\nB=x=y\n');
    expect(renderKustomization(dir)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        type: 'Opaque',
        data: { A: Buffer.from('1').toString('base64'), B: Buffer.from('x=y').toString('base64') },
      },
    ]);
  });

  it('runs its migration command from the compiled form of a script in the repo', () => {
    const script = MIGRATE_COMMAND[1]!.slice(`${IMAGE_ROOT}/dist/`.length).replace(/\.js$/, '.ts');
    expect(existsSync(join(ROOT, script)), script).toBe(true);
  });
});

describe('infra/k8s overlays', () => {
  it('aws: the gateway Service is an internet-facing NLB with IP targets, images come from ECR', () => {
    const objects = render('overlays/aws');
    const annotations = obj(find(objects, 'Service', 'gateway')?.metadata.annotations, 'annotations');
    expect(annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/health/ready',
    });
    for (const w of workloads(objects))
      for (const c of w.containers.filter(isOurImage))
        expect(String(c.image)).toMatch(/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/tollgate\//);
    // The base stays provider-neutral.
    expect(find(render('base'), 'Service', 'gateway')?.metadata.annotations).toBeUndefined();
  });

  it('dev: local images and development error details', () => {
    const objects = render('overlays/dev');
    for (const w of workloads(objects))
      for (const c of w.containers.filter(isOurImage)) expect(String(c.image)).toMatch(/:local$/);
    expect(gatewayOf(objects).config.development).toBe(true);
    expect(gatewayOf(render('base')).config.development).toBe(false);
  });
});

// ---- docker compose ----

describe('infra/docker-compose.yml', () => {
  const file = join(INFRA, 'docker-compose.yml');
  // Interpolated as `docker compose` does with nothing set: every variable has a working default.
  const compose = obj(interpolate(readYaml(file), {}), 'compose');
  const services = obj(compose.services, 'services');
  const svc = (n: string) => obj(services[n], `service ${n}`);
  const envOf = (n: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(obj(svc(n).environment ?? {}, `${n} environment`)).map(([k, v]) => [k, String(v)]),
    );
  const gateways = Object.keys(services).filter((n) => /^gateway-\d+$/.test(n));
  const replicasOf = (s: string) => Object.keys(services).filter((n) => new RegExp(`^${s}-\\d+$`).test(n));
  const durationMs = (d: string) => {
    const m = /^(\d+)(ms|s|m)$/.exec(d);
    if (!m) throw new Error(`unsupported duration ${d}`);
    return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[m[2] as 'ms' | 's' | 'm'];
  };

  /** The gateway config a gateway service mounts, loaded with that service's environment. */
  const gatewayConfig = (n: string): GatewayConfig => {
    const command = arr(svc(n).command, 'command').map(String);
    const path = command[command.indexOf('--config') + 1]!;
    const volume = arr(svc(n).volumes, 'volumes')
      .map((v) => String(v).split(':'))
      .find(([, target]) => path.startsWith(`${target}/`));
    expect(volume, `${n}: a volume over ${path}`).toBeDefined();
    const hostFile = join(resolve(INFRA, volume![0]!), posix.relative(volume![1]!, path));
    expect(hostFile).toBe(join(INFRA, 'compose', 'gateway.config.yaml'));
    return loadGatewayConfig(readFileSync(hostFile, 'utf8'), envOf(n));
  };

  it('has PostgreSQL 15, Redis 7, Jaeger with OTLP on 4318, two gateways and two replicas of each subgraph', () => {
    expect(String(svc('postgres').image)).toMatch(/^postgres:15(\b|$)/);
    expect(String(svc('redis').image)).toMatch(/^redis:7(\b|$)/);
    expect(String(svc('jaeger').image)).toMatch(JAEGER_V2);
    const jaegerPorts = [...arr(svc('jaeger').expose, 'expose'), ...arr(svc('jaeger').ports, 'ports')].map(
      String,
    );
    expect(jaegerPorts).toEqual(expect.arrayContaining(['4317', '4318', '16686:16686']));
    // Jaeger v1's switches mean nothing to v2, which runs its default (in-memory) configuration
    expect(svc('jaeger').environment).toBeUndefined();
    expect(gateways).toHaveLength(2);
    for (const s of SERVICES) {
      expect(replicasOf(s), `${s} replicas`).toHaveLength(2);
      expect(services[`${s}-migrate`], `${s}-migrate`).toBeDefined();
    }
  });

  it('builds our images from the repo with the Dockerfiles that exist', () => {
    for (const [n, raw] of Object.entries(services)) {
      const s = obj(raw, n);
      if (s.build === undefined) continue;
      const build = obj(s.build, `${n} build`);
      const context = resolve(INFRA, str(build.context, 'context'));
      expect(context, `${n}: context is the repo root`).toBe(ROOT.replace(/\/$/, ''));
      expect(
        existsSync(join(context, str(build.dockerfile, 'dockerfile'))),
        `${n}: ${String(build.dockerfile)}`,
      ).toBe(true);
      if (build.dockerfile === 'services/Dockerfile') {
        const service = str(obj(build.args, 'args').SERVICE, 'SERVICE');
        expect(SERVICES).toContain(service);
        expect(n.startsWith(`${service}-`), `${n} builds ${service}`).toBe(true);
        expect(s.image).toBe(`tollgate/${service}:local`);
      } else expect(build.dockerfile).toBe('gateway/Dockerfile');
    }
  });

  it('orders start-up with dependencies that exist, with conditions the targets can meet, without cycles', () => {
    const deps = (n: string): [string, string][] => {
      const d = svc(n).depends_on;
      if (d === undefined) return [];
      if (Array.isArray(d)) return d.map((x) => [String(x), 'service_started']);
      return Object.entries(obj(d, `${n} depends_on`)).map(([t, v]) => [
        t,
        String(obj(v, `${n} → ${t}`).condition ?? 'service_started'),
      ]);
    };
    for (const n of Object.keys(services)) {
      for (const [target, condition] of deps(n)) {
        expect(services[target], `${n} depends on ${target}`).toBeDefined();
        if (condition === 'service_healthy') {
          const t = svc(target);
          const ownImage = t.build !== undefined; // our Dockerfiles carry a HEALTHCHECK
          expect(t.healthcheck !== undefined || ownImage, `${target} has a healthcheck`).toBe(true);
        } else if (condition === 'service_completed_successfully') {
          expect(svc(target).restart, `${target} is a one-shot`).toBe('no');
        } else expect(condition).toBe('service_started');
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (n: string) => {
      if (done.has(n)) return;
      expect(visiting.has(n), `dependency cycle through ${n}`).toBe(false);
      visiting.add(n);
      for (const [t] of deps(n)) visit(t);
      visiting.delete(n);
      done.add(n);
    };
    for (const n of Object.keys(services)) visit(n);
    for (const s of SERVICES) {
      for (const r of replicasOf(s))
        expect(deps(r)).toContainEqual([`${s}-migrate`, 'service_completed_successfully']);
      expect(deps(`${s}-migrate`)).toContainEqual(['postgres', 'service_healthy']);
      expect(arr(svc(`${s}-migrate`).command, 'command')).toEqual(MIGRATE_COMMAND);
    }
  });

  it('publishes each gateway on its own host port, to the configured server.port', () => {
    const published = new Set<string>();
    for (const n of Object.keys(services)) {
      for (const p of arr(svc(n).ports, 'ports').map(String)) {
        const [host, container] = p.split(':');
        expect(published.has(host!), `host port ${host} published twice`).toBe(false);
        published.add(host!);
        if (gateways.includes(n)) expect(Number(container)).toBe(gatewayConfig(n).server.port);
      }
    }
    for (const g of gateways) expect(arr(svc(g).ports, 'ports')).toHaveLength(1);
  });

  it('mounts a gateway config that validates, lists both replicas of each subgraph by service name, and composes', () => {
    for (const g of gateways) {
      const config = gatewayConfig(g);
      expectSchemaFilesCompose(config);
      expect(config.server.host).toBe('0.0.0.0');
      // the admin listener on the compose network (exposed, never published on the host)
      expect(config.server.adminHost).toBe('0.0.0.0');
      expect(arr(svc(g).expose, 'expose').map(String)).toContain(String(config.server.adminPort));
      for (const sg of config.subgraphs) {
        const hosts = sg.replicas.map((r) => new URL(r));
        expect(hosts.map((u) => u.hostname).sort()).toEqual(replicasOf(sg.name).sort());
        for (const u of hosts) {
          expect(u.pathname).toBe('/graphql');
          expect(u.port, `${u.hostname} listens on PORT`).toBe(envOf(u.hostname).PORT);
        }
      }
      expect(config.auth.signing.secret).toBe(envOf(g).TOLLGATE_SIGNING_SECRET);
      // Docker sends SIGKILL after stop_grace_period: the gateway's drain must fit in it.
      expect(durationMs(str(svc(g).stop_grace_period, 'stop_grace_period'))).toBeGreaterThan(
        config.server.shutdownGraceMs,
      );
    }
  });

  it('points every process at the right stores and shares one signing secret', () => {
    const pg = envOf('postgres');
    const secrets = new Set<string>();
    for (const n of Object.keys(services).filter((x) => svc(x).build !== undefined)) {
      const env = envOf(n);
      if (env.DATABASE_URL) {
        const db = new URL(env.DATABASE_URL);
        expect(db.hostname).toBe('postgres');
        expect(db.username).toBe(pg.POSTGRES_USER);
        expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
        expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
      }
      if (env.REDIS_URL) expect(new URL(env.REDIS_URL).hostname).toBe('redis');
      if (env.OTEL_EXPORTER_OTLP_ENDPOINT) expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
      if (env.TOLLGATE_SIGNING_SECRET !== undefined) secrets.add(env.TOLLGATE_SIGNING_SECRET);
      if (!n.endsWith('-migrate') && !gateways.includes(n)) {
        expect(env.HOST, `${n} listens on all interfaces`).toBe('0.0.0.0');
        expect(env.OTEL_SERVICE_NAME, `${n} names itself in traces`).toBe(n.replace(/-\d+$/, ''));
      }
    }
    expect(secrets.size).toBe(1);
    expect([...secrets][0]!.length).toBeGreaterThanOrEqual(32);
  });

  it('sets only environment variables the code reads on our containers', () => {
    for (const n of Object.keys(services).filter((x) => svc(x).build !== undefined)) {
      expectEnvRead(envOf(n), n, gateways.includes(n) ? gatewayConfig(n) : undefined);
    }
  });
});

// ---- Dockerfiles ----

describe('Dockerfiles', () => {
  const context = buildContext(ROOT);
  const dockerfiles = {
    gateway: join(ROOT, 'gateway', 'Dockerfile'),
    services: join(ROOT, 'services', 'Dockerfile'),
  };
  const finalStage = (ins: DockerInstruction[]) => ins.filter((i) => i.stage === ins[ins.length - 1]!.stage);
  const args = (ins: DockerInstruction[], keyword: string) =>
    ins.filter((i) => i.keyword === keyword).map((i) => i.args);
  const json = (s: string) => JSON.parse(s) as string[];

  it('keeps the build context to what the images need', () => {
    const ignored = createDockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
    for (const p of [
      'node_modules/pg/index.js',
      'services/kit/node_modules/x',
      '.git/HEAD',
      '.tollgate/pgdata/x',
      'gateway/test/cli.int.test.ts',
      'services/products/test/products.int.test.ts',
      'gateway/src/pool/health.test.ts',
      'test/e2e/stack.e2e.ts',
      'infra/k8s/base/secrets.yaml',
    ]) {
      expect(ignored(p), p).toBe(true);
    }
    // npm ci checks the lock file against every workspace's manifest.
    for (const ws of Object.keys(LOCK.packages).filter((k) => k !== '' && !k.includes('node_modules'))) {
      expect(context.has(`${ws}/package.json`), `${ws}/package.json`).toBe(true);
    }
    for (const p of [
      'package.json',
      'package-lock.json',
      'gateway/bin/tollgate.js',
      'gateway/src/index.ts',
      'services/kit/src/index.ts',
      'infra/bin/migrate.ts',
      'scripts/build.mjs',
    ]) {
      expect(context.has(p), p).toBe(true);
    }
  });

  it.each(Object.entries(dockerfiles))(
    '%s: multi-stage on a Node LTS slim image pinned by digest, compiled, npm ci --omit=dev, non-root, HEALTHCHECK, STOPSIGNAL SIGTERM',
    (name, file) => {
      const ins = readDockerfile(file);
      // Node 24 is the Active LTS line (20 is past its end of life); a tag alone could change under us.
      expect(args(ins, 'ARG')).toContainEqual(
        expect.stringMatching(/^NODE_IMAGE=node:24-slim@sha256:[0-9a-f]{64}$/),
      );
      const froms = args(ins, 'FROM');
      expect(froms.length).toBeGreaterThanOrEqual(3);
      for (const f of froms) expect(f).toMatch(/^\$\{NODE_IMAGE\}( AS \S+)?$/);
      // a build stage compiles the TypeScript (scripts/build.mjs); the runtime gets its dist/ only
      expect(args(ins, 'RUN').some((r) => /^node scripts\/build\.mjs /.test(r))).toBe(true);
      const install = args(ins, 'RUN').find((r) => r.includes('npm ci --omit=dev'));
      expect(install).toMatch(/npm ci --omit=dev/);
      const workspaces = [...install!.matchAll(/--workspace="?([^\s"]+)"?/g)].map((m) => m[1]!);
      expect(workspaces.length).toBeGreaterThan(0);
      for (const ws of workspaces) {
        for (const s of ws.includes(SERVICE_ARG) ? SERVICES.map((x) => ws.replace(SERVICE_ARG, x)) : [ws]) {
          expect(LOCK.packages[s], `${s} is a workspace in the lock file`).toBeDefined();
        }
      }
      const last = finalStage(ins);
      // No install, compiler or dev tooling in the final stage: it copies what the others built.
      expect(args(last, 'RUN')).toEqual([]);
      // JavaScript only: no TypeScript source copied in, and the process is plain `node <file>.js`.
      for (const copy of args(last, 'COPY')) {
        expect(copy.split(/\s+/).at(-1), copy).not.toMatch(/(^|\/)src(\/|$)|\.ts$|tsx/);
      }
      const command = [...args(last, 'ENTRYPOINT'), ...args(last, 'CMD')].map((c) => json(c));
      expect(command[0]![0]).toBe('node');
      expect(command[0]![1]).toMatch(/\.js$/);
      expect(command.flat().filter((a) => /tsx|--import|--loader/.test(a))).toEqual([]);
      const user = args(last, 'USER');
      expect(user).toHaveLength(1);
      expect(user[0]).not.toMatch(/^(root|0)(:|$)/);
      expect(args(last, 'STOPSIGNAL')).toEqual(['SIGTERM']);
      const health = args(last, 'HEALTHCHECK');
      expect(health).toHaveLength(1);
      expect(health[0]).toContain(name === 'gateway' ? "'/health/live'" : "'/health'");
      const probe = json(health[0]!.slice(health[0]!.indexOf('CMD ') + 4));
      expect(probe.slice(0, 2)).toEqual(['node', '-e']);
      // The probe script at least parses (node:20-slim has no curl or wget).
      expect(() => new Function(probe[2]!)).not.toThrow();
    },
  );

  it('gateway: runs `tollgate --config /etc/tollgate/…` on the port the configs use, with every schema file', () => {
    const last = finalStage(readDockerfile(dockerfiles.gateway));
    expect(json(args(last, 'ENTRYPOINT')[0]!)).toEqual(['node', 'gateway/bin/tollgate.js']);
    expect(json(args(last, 'CMD')[0]!)).toEqual(['--config', '/etc/tollgate/gateway.config.yaml']);
    expect(args(last, 'WORKDIR')).toEqual([IMAGE_ROOT]);
    expect(args(last, 'EXPOSE')).toEqual([
      String(
        loadGatewayConfig(readFileSync(join(INFRA, 'compose', 'gateway.config.yaml'), 'utf8'), {}).server
          .port,
      ),
    ]);
    const all = readDockerfile(dockerfiles.gateway);
    expect(args(all, 'RUN').some((r) => r.includes('services/*/schema.graphql'))).toBe(true);
    expect(args(last, 'COPY')).toContain('--from=manifests /schemas/ ./');
  });

  it('services: one image per SERVICE, serving PORT on all interfaces, from its compiled main.js', () => {
    const ins = readDockerfile(dockerfiles.services);
    const last = finalStage(ins);
    expect(args(last, 'COPY')).toContain(
      `--from=build /src/services/${SERVICE_ARG}/dist ./services/${SERVICE_ARG}/dist`,
    );
    // the migration entry point (infra/docker-compose.yml and the k8s Jobs run it from the same image)
    expect(args(last, 'COPY')).toContain('--from=build /src/dist/infra/bin ./dist/infra/bin');
    const env = args(last, 'ENV').join(' ');
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    const port = /PORT=(\d+)/.exec(env)?.[1];
    expect(args(last, 'EXPOSE')).toEqual([port]);
    expect(args(last, 'WORKDIR')).toEqual([IMAGE_ROOT, `${IMAGE_ROOT}/services/${SERVICE_ARG}`]);
    expect(json(args(last, 'CMD')[0]!)).toEqual(['node', 'dist/main.js']);
    // scripts/build.mjs compiles services/<name>/src/main.ts to services/<name>/dist/main.js
    for (const s of SERVICES) expect(existsSync(join(ROOT, 'services', s, 'src', 'main.ts'))).toBe(true);
  });

  it.each(Object.entries(dockerfiles))('%s: copies only what is in the build context', (_, file) => {
    for (const copy of args(readDockerfile(file), 'COPY')) {
      if (copy.includes('--from=')) continue;
      const parts = copy.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        for (const s of source.includes(SERVICE_ARG)
          ? SERVICES.map((x) => source.replace(SERVICE_ARG, x))
          : [source]) {
          expect(inContext(context, s), `COPY ${s}`).toBe(true);
        }
      }
    }
  });
});

// ---- the migration entry point of the subgraph images ----

describe('infra/bin/migrate.ts, compiled as the images run it', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.close());

  const run = (service: string, env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      // dist/ is brought up to date by the test run's global setup (test/fixtures/build.global-setup.ts)
      const child = spawn(process.execPath, [join(ROOT, 'dist', 'infra', 'bin', 'migrate.js')], {
        cwd: join(ROOT, 'services', service),
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.once('close', (code) => done({ code, stdout, stderr }));
    });

  it('migrates and seeds the service in its working directory, once', async () => {
    const first = await run('products', { DATABASE_URL: database.url });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      migrated: true,
      service: 'products',
      applied: ['001_init.sql'],
      seed: 'small',
    });
    const again = await run('products', { DATABASE_URL: database.url });
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: [] });
    const none = await run('accounts', { DATABASE_URL: database.url, SEED_SIZE: 'none' });
    expect(JSON.parse(none.stdout)).toMatchObject({ service: 'accounts', seed: 'none' });
    const db = createDb(database.url);
    try {
      expect(await db.query('SELECT count(*)::int AS n FROM products.products')).toEqual([{ n: 250 }]);
      expect(await db.query('SELECT count(*)::int AS n FROM accounts.users')).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  it('refuses to run without DATABASE_URL or with an unknown SEED_SIZE', async () => {
    const missing = await run('products', {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/DATABASE_URL is required/);
    const bad = await run('products', { DATABASE_URL: database.url, SEED_SIZE: 'huge' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/SEED_SIZE/);
  });
});
