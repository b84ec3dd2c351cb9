import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFiles } from '../../test/fixtures/config-files.ts';
import { loadConfig } from './index.ts';

// The README's "Edge and routing" section shows one gateway.config.yaml per capability: each must load as
// written (the keys exist, the values validate), and say what the prose says it does.
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const start = README.indexOf('\n## Edge and routing\n');
const section = README.slice(start, README.indexOf('\n## ', start + 5));
const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

const { dir, file } = configFiles('tollgate-readme-edge-');
const load = (yaml: string, name: string) =>
  loadConfig({ flags: { configFile: file(name, yaml) }, env: {}, cwd: dir });

describe("the README's Edge and routing examples", () => {
  it('has one block per capability', () => {
    expect(start).toBeGreaterThan(0);
    expect(blocks).toHaveLength(6);
  });

  it('TLS: an HTTPS listener on certificate files relative to the config file', () => {
    const c = load(blocks[0]!, 'tls.yaml');
    expect(c.server.tls).toMatchObject({
      certFile: `${dir}/certs/gateway.crt`,
      keyFile: `${dir}/certs/gateway.key`,
      minVersion: 'TLSv1.2',
    });
  });

  it('CORS: the listed origins, with credentials', () => {
    const c = load(blocks[1]!, 'cors.yaml');
    expect(c.server.cors).toMatchObject({
      origins: ['http://localhost:5173', 'https://*.preview.example.com'],
      credentials: true,
      maxAgeSeconds: 600,
    });
  });

  it('header rules: for all subgraphs, and authorization to accounts only', () => {
    const c = load(blocks[2]!, 'headers.yaml');
    expect(c.headers.all.request).toHaveLength(2);
    expect(Object.keys(c.headers.subgraphs)).toEqual(['accounts']);
    expect(JSON.stringify(c.headers.subgraphs.accounts)).toContain('authorization');
  });

  it('routing: a labelled canary replica and three rules', () => {
    const c = load(blocks[3]!, 'routing.yaml');
    expect(c.subgraphs[0]!.replicas[1]).toEqual({
      url: 'http://127.0.0.1:4102/graphql',
      labels: { track: 'canary' },
    });
    expect(c.routing.rules.map((r) => r.name)).toEqual(['canary-header', 'canary-10', 'acme']);
    expect(c.routing.fallback).toBe('default');
  });

  it('progressive override: a rule that turns a custom label on', () => {
    const c = load(blocks[4]!, 'override.yaml');
    expect(c.routing.rules[0]).toMatchObject({ name: 'beta-testers', activate: ['beta'] });
  });

  it('graphs: two paths, the partner one stricter', () => {
    const c = load(blocks[5]!, 'graphs.yaml');
    expect(c.graphs?.map((g) => g.path)).toEqual(['/graphql', '/partner/graphql']);
  });
});
