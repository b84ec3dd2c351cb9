import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { fromHivePlan } from './from-hive.ts';
import type { BatchFetchNode, FetchNode, FlattenNode, SequenceNode } from './plan.ts';
import { drawOverrides, overrideLabelsOf } from './planners.ts';

const schema = buildSchema(`
  interface Node { id: ID! }
  type A implements Node { id: ID! }
  type B implements Node { id: ID! }
  type Query { nodes: [Node] }
`);

describe('progressive @override', () => {
  const sdl = `
    type T { a: Int @join__field(graph: X, override: "y", overrideLabel: "percent(25)")
             b: Int @join__field(graph: X, override: "y", overrideLabel: "percent(75)")
             c: Int @join__field(graph: X, override: "y", overrideLabel: "beta") }`;
  const labels = overrideLabelsOf(sdl);

  it('reads the labels and their percentages', () => {
    expect(labels.labels).toEqual(['percent(25)', 'percent(75)', 'beta']);
    expect(labels.percentages).toEqual([25, 75]);
  });

  it('turns percent(n) on when the draw is below n, and shares plans within a band', () => {
    const at = (r: number) => drawOverrides(labels, () => r / 100);
    expect([...at(10).active]).toEqual(['percent(25)', 'percent(75)']);
    expect([...at(50).active]).toEqual(['percent(75)']);
    expect([...at(80).active]).toEqual([]);
    expect(at(10).key).toBe(at(20).key);
    expect(at(10).key).not.toBe(at(30).key);
    // the value handed to the hive planner is inside the band, so it agrees with `active`
    expect(at(50).percentage).toBeGreaterThan(25);
    expect(at(50).percentage).toBeLessThan(75);
    expect(drawOverrides(overrideLabelsOf('type Q { a: Int }')).key).toBe('');
  });

  it('turns on the custom labels a routing rule activated, keyed apart from the same band without them', () => {
    const draw = (r: number, custom?: string[]) =>
      drawOverrides(labels, () => r / 100, custom && new Set(custom));
    expect([...draw(80, ['beta']).active]).toEqual(['beta']);
    expect(draw(80, ['beta']).key).not.toBe(draw(80).key);
    expect(draw(80, ['beta']).key).toBe(draw(90, ['beta']).key);
    expect(draw(10, ['beta']).key).not.toBe(draw(80, ['beta']).key);
    // a label no field uses, or a percent(n) label, changes nothing: the draw decides those
    expect(draw(80, ['unused', 'percent(25)']).key).toBe(draw(80).key);
    expect([...draw(80, ['unused', 'percent(25)']).active]).toEqual([]);
    // a supergraph with custom labels only: on when activated, one plan each way
    const only = overrideLabelsOf(
      'type T { c: Int @join__field(graph: X, override: "y", overrideLabel: "beta") }',
    );
    expect(drawOverrides(only).key).toBe('');
    expect([...drawOverrides(only, Math.random, new Set(['beta'])).active]).toEqual(['beta']);
  });
});

describe('Hive plans in the plan format', () => {
  const plan = fromHivePlan(
    schema,
    {
      kind: 'QueryPlan',
      node: {
        kind: 'Sequence',
        nodes: [
          { kind: 'Fetch', serviceName: 'x', operationKind: 'query', operation: '{nodes{__typename id}}' },
          {
            kind: 'Flatten',
            path: [{ Field: 'nodes' }, '@', { TypeCondition: ['Node'] }],
            node: {
              kind: 'Fetch',
              serviceName: 'y',
              operation:
                'query($representations:[_Any!]!){_entities(representations: $representations){...on A{id}}}',
              requires: [
                {
                  kind: 'InlineFragment',
                  typeCondition: 'A',
                  selections: [
                    { kind: 'Field', name: '__typename' },
                    { kind: 'Field', name: '_internal_qp_alias_0', alias: 'id' },
                  ],
                },
              ],
              outputRewrites: [
                { KeyRenamer: { path: [{ TypenameEquals: ['A'] }, { Key: 'x' }], renameKeyTo: 'y' } },
              ],
            },
          },
          {
            kind: 'BatchFetch',
            serviceName: 'z',
            operation:
              'query($__batch_reps_0:[_Any!]!){_e0: _entities(representations: $__batch_reps_0){...on B{id}}}',
            entityBatch: {
              aliases: [
                {
                  alias: '_e0',
                  representationsVariableName: '__batch_reps_0',
                  paths: [[{ Field: 'nodes' }, '@']],
                  requires: [],
                },
              ],
            },
          },
        ],
      },
    },
    'Q',
  );
  const [root, flatten, batch] = (plan.node as SequenceNode).nodes as [
    FetchNode,
    FlattenNode,
    BatchFetchNode,
  ];

  it('names subgraph operations <operation>__<subgraph>__<n>, as Apollo does', () => {
    expect(root.operation).toBe('query Q__x__0{nodes{__typename id}}');
    expect(root.operationName).toBe('Q__x__0');
    expect((flatten.node as FetchNode).operationName).toBe('Q__y__1');
    expect(batch.operationName).toBe('Q__z__2');
  });

  it('expands type conditions and keeps a requires field’s two keys apart', () => {
    const [, , condition] = flatten.path;
    expect([...(condition as { types: Set<string> }).types].sort()).toEqual(['A', 'B', 'Node']);
    const fetch = flatten.node as FetchNode;
    const fragment = fetch.requires![0]!;
    expect(fragment.kind === 'InlineFragment' && fragment.selections[1]).toEqual({
      kind: 'Field',
      responseName: '_internal_qp_alias_0',
      key: 'id',
      selections: undefined,
    });
    expect(fetch.outputRewrites?.[0]).toMatchObject({
      kind: 'KeyRenamer',
      renameKeyTo: 'y',
      path: [{}, 'x'],
    });
  });

  it('keeps a BatchFetch with its aliases and their paths', () => {
    expect(batch.aliases[0]).toMatchObject({
      alias: '_e0',
      representationsVariable: '__batch_reps_0',
      paths: [['nodes', '@']],
    });
  });
});
