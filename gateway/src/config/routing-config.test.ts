import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { loadConfig } from './index.ts';

const { dir, file } = configFiles('tollgate-routing-config-');
const load = (yaml: string) => loadConfig({ flags: { configFile: file('c.yaml', yaml) }, env: {}, cwd: dir });

describe('replica labels and routing rules in the config', () => {
  it('takes the example of docs/routing.md as it is written', () => {
    const doc = readFileSync(new URL('../../../docs/routing.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    const c = load(yaml!);
    expect(c.subgraphs[0]!.replicas).toEqual([
      'http://10.0.0.11:4001/graphql',
      'http://10.0.0.12:4001/graphql',
      { url: 'http://10.0.0.21:4001/graphql', labels: { track: 'canary' } },
      { url: 'dns://products-acme.default.svc.cluster.local:4001/graphql', labels: { tenant: 'acme' } },
    ]);
    expect(c.routing.fallback).toBe('default');
    expect(c.routing.rules.map((r) => r.name)).toEqual([
      'canary-header',
      'acme',
      'canary-5',
      'beta-override',
    ]);
  });

  it('defaults to no rules and fallback default; a replica object without labels has none', () => {
    const c = load('subgraphs:\n  - { name: a, replicas: [{ url: "http://127.0.0.1:9/graphql" }] }\n');
    expect(c.routing).toEqual({ rules: [], fallback: 'default' });
    expect(c.subgraphs[0]!.replicas).toEqual([{ url: 'http://127.0.0.1:9/graphql', labels: {} }]);
  });

  const bad: [string, string, RegExp][] = [
    [
      'a replica URL that is not one',
      'subgraphs:\n  - { name: a, replicas: [{ url: nope }] }\n',
      /^subgraphs\.0\.replicas\.0\.url: invalid url/,
    ],
    [
      'an unknown replica key',
      'subgraphs:\n  - { name: a, replicas: [{ url: "http://h/graphql", label: { a: b } }] }\n',
      /^subgraphs\.0\.replicas\.0: unknown key\(s\) label/,
    ],
    [
      'a rule without a condition',
      'routing:\n  rules: [{ select: { track: canary } }]\n',
      /^routing\.rules\.0: a rule needs a condition/,
    ],
    [
      'a rule without an action',
      'routing:\n  rules: [{ weight: 5 }]\n',
      /^routing\.rules\.0: a rule needs an action/,
    ],
    [
      'a weight over 100',
      'routing:\n  rules: [{ weight: 150, select: { a: b } }]\n',
      /^routing\.rules\.0\.weight: /,
    ],
    [
      'two rules of one name',
      'routing:\n  rules: [{ name: x, weight: 5, select: { a: b } }, { name: x, weight: 1, select: { a: c } }]\n',
      /^routing\.rules\.1\.name: duplicate rule name x/,
    ],
    ['an unknown fallback', 'routing:\n  fallback: any\n', /^routing\.fallback: /],
  ];
  it.each(bad)('refuses %s, naming the key', (_, yaml, issue) => {
    const issues = issuesOf(() => load(yaml));
    expect(
      issues.some((i) => issue.test(i)),
      issues.join('\n'),
    ).toBe(true);
  });
});
