import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, GatewayConfigSchema, loadConfig } from '../config/index.ts';
import { configJsonSchema } from './json-schema.ts';

const ROOT = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const schema = configJsonSchema();
// `uri` checked as zod's .url() checks it: whatever new URL() accepts (dns://… replicas included)
const validate = new Ajv({
  allErrors: true,
  strict: true,
  formats: { uri: (s: string) => URL.canParse(s) },
}).compile(schema);

type Node = {
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  additionalProperties?: unknown;
};
function walk(node: unknown, path: string, visit: (node: Node, path: string) => void): void {
  if (typeof node !== 'object' || node === null) return;
  const n = node as Node;
  visit(n, path);
  for (const [k, v] of Object.entries(n.properties ?? {})) walk(v, path ? `${path}.${k}` : k, visit);
  if (n.items) walk(n.items, `${path}[]`, visit);
  if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}.*`, visit);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
    for (const sub of ((n as Record<string, unknown>)[key] as unknown[] | undefined) ?? [])
      walk(sub, path, visit);
}

// The gateway configs the repo ships or shows: infra's files, and every ```yaml block in the README and
// docs/ made only of config sections.
const SECTIONS = new Set(Object.keys(GatewayConfigSchema.innerType().shape));
function samples(): [string, unknown][] {
  const out: [string, unknown][] = [
    ['infra/compose/gateway.config.yaml', parseYaml(read('infra/compose/gateway.config.yaml'))],
    ['infra/k8s/base/gateway.config.yaml', parseYaml(read('infra/k8s/base/gateway.config.yaml'))],
  ];
  const pages = [
    'README.md',
    ...readdirSync(new URL('docs/', ROOT))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const page of pages) {
    for (const [i, m] of [...read(page).matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].entries()) {
      const doc = parseYaml(m[1]!) as unknown;
      if (typeof doc === 'object' && doc && Object.keys(doc).every((k) => SECTIONS.has(k)))
        out.push([`${page} yaml block ${i + 1}`, doc]);
    }
  }
  return out;
}

const keyOf = (e: ErrorObject) => {
  const path = e.instancePath.slice(1).replaceAll('/', '.');
  return path || '(root)';
};

describe('tollgate config schema', () => {
  it('is draft-07, titled, and describes every key', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.title).toMatch(/Tollgate/);
    const undescribed: string[] = [];
    walk(schema, '', (node, path) => {
      for (const [k, v] of Object.entries(node.properties ?? {}))
        if (!(v as { description?: string }).description) undescribed.push(path ? `${path}.${k}` : k);
    });
    expect(undescribed).toEqual([]);
  });

  it('requires no key that has a default: an empty file is valid, as the loader says', () => {
    const wrongly: string[] = [];
    walk(schema, '', (node, path) => {
      for (const k of node.required ?? [])
        if ((node.properties?.[k] as { default?: unknown } | undefined)?.default !== undefined)
          wrongly.push(`${path}.${k}`);
    });
    expect(wrongly).toEqual([]);
    expect(validate({}), JSON.stringify(validate.errors)).toBe(true);
    // what is truly required stays required: a subgraph needs a name and replicas
    expect(validate({ subgraphs: [{ schemaFile: 'x.graphql' }] })).toBe(false);
  });

  it('accepts every sample config in the repo', () => {
    const found = samples();
    expect(found.length).toBeGreaterThanOrEqual(6);
    for (const [where, doc] of found)
      expect(validate(doc), `${where}: ${JSON.stringify(validate.errors)}`).toBe(true);
  });

  const dir = mkdtempSync(join(tmpdir(), 'tollgate-json-schema-'));
  it.each([
    ['an enum value', 'ratelimit: { failureMode: sideways }', 'ratelimit.failureMode'],
    ['a wrong type', 'server: { port: not-a-port }', 'server.port'],
    ['a nested wrong type', 'pool:\n  healthCheck: { intervalMs: soon }', 'pool.healthCheck.intervalMs'],
    ['an unknown key', 'pool: { bogus: 1 }', 'pool'],
    [
      'a bad subgraph replica',
      'subgraphs:\n  - { name: a, replicas: [not a url] }',
      'subgraphs.0.replicas.0',
    ],
  ])('rejects %s, naming the same key as loadConfig', (_what, yaml, key) => {
    expect(validate(parseYaml(yaml))).toBe(false);
    expect(validate.errors!.map(keyOf)).toContain(key);
    const file = join(dir, `${key}.yaml`);
    writeFileSync(file, yaml);
    let issues: readonly string[] = [];
    try {
      loadConfig({ flags: { configFile: file }, env: {} });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues = error.issues;
    }
    expect(issues.map((i) => i.slice(0, i.indexOf(': ')))).toContain(key);
  });
});
