import type { GraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { BatchFetchNode, PlanNode } from '../planner/index.ts';
import { rootCursor } from './cursor.ts';
import { executeNode, type PlanRun } from './plan-executor.ts';

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
