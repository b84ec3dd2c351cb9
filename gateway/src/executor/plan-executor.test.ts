import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { BatchFetchNode, FetchNode, PlanNode } from '../planner/index.ts';
import { rootCursor } from './cursor.ts';
import { completeFetches, executeNode, type PlanRun } from './plan-executor.ts';

/** A subgraph that answers each request with `answer(variables)` and records what it was sent. */
function fakeService(answer: (variables: Record<string, unknown>) => { data?: unknown; errors?: unknown[] }) {
  const sent: Record<string, unknown>[] = [];
  const service = {
    async process({ request }: { request: { variables?: Record<string, unknown> } }) {
      sent.push(request.variables ?? {});
      return answer(request.variables ?? {});
    },
  } as unknown as GraphQLDataSource;
  return { service, sent };
}

function run(services: Record<string, GraphQLDataSource>): PlanRun {
  return {
    service: (name) => services[name],
    requestContext: { request: {}, context: {} } as unknown as GatewayGraphQLRequestContext,
    variables: {},
    errors: [],
    deferred: [],
    incomplete: [],
  };
}

const typeA = { types: new Set(['A']) };

describe('BatchFetch', () => {
  it('sends every alias in one request and merges each back, errors at the entities’ paths', async () => {
    const data: Record<string, unknown> = {
      a: [
        { __typename: 'A', id: '1' },
        { __typename: 'B', id: '2' },
        { __typename: 'A', id: '3' },
      ],
      b: { __typename: 'A', id: '4' },
    };
    const { service, sent } = fakeService((v) => ({
      data: {
        _e0: (v.reps0 as { id: string }[]).map((r) => (r.id === '3' ? null : { name: `n${r.id}` })),
        _e1: [{ name: 'n4' }],
      },
      errors: [{ message: 'no 3', path: ['_e0', 1, 'name'] }],
    }));
    const requires = [
      { kind: 'Field' as const, responseName: '__typename', key: '__typename' },
      { kind: 'Field' as const, responseName: 'id', key: 'id' },
    ];
    const node: BatchFetchNode = {
      kind: 'BatchFetch',
      serviceName: 's',
      operation:
        'query($reps0:[_Any!]!,$reps1:[_Any!]!){_e0: _entities(representations:$reps0){...on A{name}} _e1: _entities(representations:$reps1){...on A{name}}}',
      document: parse('{ x }'),
      operationName: undefined,
      variableUsages: [],
      aliases: [
        {
          alias: '_e0',
          representationsVariable: 'reps0',
          paths: [['a', '@', typeA]],
          requires,
          inputRewrites: undefined,
          outputRewrites: undefined,
        },
        {
          alias: '_e1',
          representationsVariable: 'reps1',
          paths: [['b']],
          requires,
          inputRewrites: undefined,
          outputRewrites: undefined,
        },
      ],
    };
    const r = run({ s: service });
    await executeNode(r, node as PlanNode, rootCursor(data));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual({
      reps0: [
        { __typename: 'A', id: '1' },
        { __typename: 'A', id: '3' },
      ],
      reps1: [{ __typename: 'A', id: '4' }],
    });
    expect(data).toEqual({
      a: [
        { __typename: 'A', id: '1', name: 'n1' },
        { __typename: 'B', id: '2' },
        { __typename: 'A', id: '3' },
      ],
      b: { __typename: 'A', id: '4', name: 'n4' },
    });
    // representation 1 of _e0 is the third element of `a` (the B in between was not sent)
    expect(r.errors.map((e) => e.path)).toEqual([['a', 2, 'name']]);
  });
});

describe('fetches planned before their inputs', () => {
  it('run again once the inputs are in, until nothing more can be fetched', async () => {
    const data: Record<string, unknown> = {
      items: [
        { __typename: 'A', pId: 'p1' },
        { __typename: 'A', pId: 'p2' },
      ],
    };
    const field = (name: string) => ({ kind: 'Field' as const, responseName: name, key: name });
    const entityFetch = (serviceName: string, requires: string[]): FetchNode => ({
      kind: 'Fetch',
      serviceName,
      operation: 'query($representations:[_Any!]!){_entities(representations:$representations){...on A{x}}}',
      document: parse('{ x }'),
      operationName: undefined,
      operationKind: 'query',
      variableUsages: [],
      requires: [{ kind: 'InlineFragment', typeCondition: typeA, selections: requires.map(field) }],
      inputRewrites: undefined,
      outputRewrites: undefined,
    });
    const greetings = fakeService((v) => ({
      data: {
        _entities: (v.representations as { name: string }[]).map((r) => ({ greeting: `hi ${r.name}` })),
      },
    }));
    const names = fakeService((v) => ({
      data: {
        _entities: (v.representations as { pId: string }[]).map((r) => ({ name: r.pId.toUpperCase() })),
      },
    }));
    // the order a wrong plan has: greeting (needs name) first, name after it
    const plan: PlanNode = {
      kind: 'Sequence',
      nodes: [
        { kind: 'Flatten', path: ['items', '@'], node: entityFetch('c', ['__typename', 'pId', 'name']) },
        { kind: 'Flatten', path: ['items', '@'], node: entityFetch('a', ['__typename', 'pId']) },
      ],
    };
    const r = run({ c: greetings.service, a: names.service });
    await executeNode(r, plan, rootCursor(data));
    expect(greetings.sent).toHaveLength(0); // no entity had its name yet
    await completeFetches(r);
    expect(greetings.sent).toHaveLength(1);
    expect(data.items).toEqual([
      { __typename: 'A', pId: 'p1', name: 'P1', greeting: 'hi P1' },
      { __typename: 'A', pId: 'p2', name: 'P2', greeting: 'hi P2' },
    ]);
    expect(r.incomplete).toEqual([]);
  });

  it('stop when a pass fetches nothing (an input that never comes)', async () => {
    const data: Record<string, unknown> = { items: [{ __typename: 'A' }] };
    const never = fakeService(() => ({ data: { _entities: [] } }));
    const fetch: FetchNode = {
      kind: 'Fetch',
      serviceName: 'c',
      operation: '{ x }',
      document: parse('{ x }'),
      operationName: undefined,
      operationKind: 'query',
      variableUsages: [],
      requires: [{ kind: 'Field', responseName: 'pId', key: 'pId' }],
      inputRewrites: undefined,
      outputRewrites: undefined,
    };
    const r = run({ c: never.service });
    await executeNode(r, { kind: 'Flatten', path: ['items', '@'], node: fetch }, rootCursor(data));
    await completeFetches(r);
    expect(never.sent).toHaveLength(0);
    expect(r.incomplete).toEqual([]);
  });
});
