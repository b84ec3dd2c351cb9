import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFiles, issuesOf } from '../../test/fixtures/config-files.ts';
import { deepMerge, graphName } from './graphs.ts';
import { graphConfigs, loadConfig } from './index.ts';

const { dir, file } = configFiles('tollgate-graphs-');
const sub = (name: string, port: number) => ({ name, replicas: [`http://127.0.0.1:${port}/graphql`] });
const load = (base: Record<string, unknown>) => loadConfig({ env: {}, base });

describe('graphConfigs', () => {
  it('without graphs: one graph on /graphql with the configuration as it is', () => {
    const config = load({ subgraphs: [sub('products', 1)], cost: { maxCost: 77 } });
    const graphs = graphConfigs(config);
    expect(graphs.map((g) => [g.name, g.path])).toEqual([['graphql', '/graphql']]);
    expect(graphs[0]!.config.cost.maxCost).toBe(77);
    expect(graphs[0]!.config.subgraphs).toEqual(config.subgraphs);
  });

  it("deep-merges a graph's sections over the top level, and takes supergraph and subgraphs as a pair", () => {
    const config = load({
      subgraphs: [sub('products', 1)],
      supergraph: { planner: 'apollo' },
      ratelimit: {
        plans: { free: { capacity: 100, restoreRate: 1 }, gold: { capacity: 9, restoreRate: 9 } },
      },
      auth: { anonymous: { plan: 'free' } },
      graphs: [
        { path: '/graphql' },
        {
          path: '/partner/graphql',
          subgraphs: [sub('partners', 2)],
          ratelimit: { plans: { free: { capacity: 5 } } },
          auth: { anonymous: { enabled: false } },
          limits: { maxDepth: 3 },
        },
      ],
    });
    const [main, partner] = graphConfigs(config);
    expect(main!.config.subgraphs.map((s) => s.name)).toEqual(['products']);
    expect(main!.config.ratelimit.plans.free).toEqual({ capacity: 100, restoreRate: 1 });
    expect(partner!.name).toBe('partner-graphql');
    // the source is replaced whole: no `products` from the top level, and supergraph back to its defaults
    expect(partner!.config.subgraphs.map((s) => s.name)).toEqual(['partners']);
    expect(partner!.config.supergraph.planner).toBe('hive');
    // merged: the one key named changes, its siblings and the other plans stay
    expect(partner!.config.ratelimit.plans.free).toEqual({ capacity: 5, restoreRate: 1 });
    expect(partner!.config.ratelimit.plans.gold).toEqual({ capacity: 9, restoreRate: 9 });
    expect(partner!.config.auth.anonymous).toEqual({ enabled: false, plan: 'free' });
    expect(partner!.config.limits.maxDepth).toBe(3);
    expect(partner!.config.limits.maxAliases).toBe(main!.config.limits.maxAliases);
    expect(partner!.config).not.toHaveProperty('graphs');
  });

  it('null removes an inherited key', () => {
    expect(deepMerge({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null }, e: [1] })).toEqual({
      a: 1,
      b: { d: 3 },
      e: [1],
    });
    expect(deepMerge({ list: [1, 2] }, { list: [3] })).toEqual({ list: [3] });
  });

  it('names a graph by its path unless named', () => {
    expect(graphName({ path: '/graphql' })).toBe('graphql');
    expect(graphName({ path: '/partner/v2/graphql' })).toBe('partner-v2-graphql');
    expect(graphName({ path: '/' })).toBe('root');
    expect(graphName({ path: '/x', name: 'edge' })).toBe('edge');
  });

  it("resolves a graph's file paths against the config file", () => {
    const path = file(
      'graphs.yaml',
      [
        'graphs:',
        '  - path: /graphql',
        '    supergraph: { file: main.graphql }',
        '  - path: /partner/graphql',
        '    subgraphs: [{ name: p, replicas: ["http://127.0.0.1:1/graphql"], schemaFile: p.graphql }]',
        '    persistedQueries: { trustedDocuments: { manifest: m.json } }',
      ].join('\n'),
    );
    const [main, partner] = graphConfigs(loadConfig({ flags: { configFile: path }, env: {}, cwd: '/srv' }));
    expect(main!.config.supergraph.file).toBe(join(dir, 'main.graphql'));
    expect(partner!.config.subgraphs[0]!.schemaFile).toBe(join(dir, 'p.graphql'));
    expect(partner!.config.persistedQueries.trustedDocuments?.manifest).toBe(join(dir, 'm.json'));
  });
});

describe('graphs: bad config names the key', () => {
  const graphs =
    (...entries: Record<string, unknown>[]) =>
    () =>
      load({ graphs: entries });
  it.each([
    [
      'two graphs on one path',
      graphs({ path: '/graphql' }, { path: '/graphql', name: 'other' }),
      'graphs.1.path: /graphql is already the path of graphs.0',
    ],
    ['/health/*', graphs({ path: '/health/ready' }), 'graphs.0.path: /health/ready is served by the gateway'],
    ['/metrics', graphs({ path: '/graphql' }, { path: '/metrics' }), 'graphs.1.path: /metrics is served'],
    ['/admin/*', graphs({ path: '/admin/graphql' }), 'graphs.0.path: /admin/graphql is served'],
    ['a path that is not one', graphs({ path: 'partner' }), 'graphs.0.path: expected a path'],
    [
      "a path under another graph's IDE assets",
      graphs({ path: '/a' }, { path: '/a/ide/x' }),
      'graphs.1.path: /a/ide/x is under the ide assets of /a',
    ],
    [
      'two graphs of one name',
      graphs({ path: '/a/graphql', name: 'a' }, { path: '/b/graphql', name: 'a' }),
      'graphs.1.name: graph name a is already taken by graphs.0',
    ],
    [
      'a store key in a graph',
      graphs({ path: '/graphql', ratelimit: { failureMode: 'closed' } }),
      'graphs.0.ratelimit.failureMode: every graph shares the one rate-limit store',
    ],
    [
      'a bad value in a merged section',
      graphs({ path: '/graphql' }, { path: '/p', cost: { maxCost: 'lots' } }),
      'graphs.1.cost.maxCost: expected number',
    ],
    [
      'an unknown key in a merged section',
      graphs({ path: '/p', limits: { maxDepht: 3 } }),
      'graphs.0.limits: unknown key(s) maxDepht',
    ],
    [
      'a check across keys of the merged config',
      graphs({ path: '/p', ratelimit: { defaultPlan: 'gold' } }),
      'graphs.0.ratelimit.defaultPlan: no plan named gold',
    ],
    ['an unknown section', graphs({ path: '/p', server: { port: 1 } }), 'graphs.0: unknown key(s) server'],
    ['an empty list', graphs(), 'graphs: array must contain at least 1 element'],
  ])('%s', (_what, fn, expected) => {
    const issues = issuesOf(fn);
    expect(
      issues.some((i) => i.startsWith(expected)),
      issues.join('\n'),
    ).toBe(true);
  });
});
