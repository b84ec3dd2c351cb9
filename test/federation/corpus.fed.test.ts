// The federation corpus (README.md): every feature's cases against both planners, over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURES } from './features.ts';
import { type FeatureStack, PLANNERS, send, startFeature } from './lib/gateway.ts';

describe.each(FEATURES)('$name', (feature) => {
  let stack: FeatureStack | undefined;
  beforeAll(async () => {
    stack = await startFeature(feature);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the supergraph carries no @cost or @listSize (the default cost limit applies as is)', () => {
    expect(stack!.supergraph).not.toMatch(/@cost|@listSize/);
  });

  describe.each(PLANNERS)('%s planner', (planner) => {
    it.each(feature.cases)('$name', async (c) => {
      const { body } = await send(stack!.urls[planner], c.query, c.variables);
      const refused = body.errors?.find((e) => e.extensions?.code === 'COST_LIMIT_EXCEEDED');
      if (refused) expect.fail(`refused by the default cost limit: ${refused.message}`);
      const got = { data: body.data ?? null, errors: Boolean(body.errors?.length) };
      const want = { data: c.expected.data, errors: c.errors ?? false };
      const detail = JSON.stringify({ errors: body.errors, extensions: body.extensions });
      if (c.apolloFails && planner === 'apollo')
        expect(got, `marked apolloFails (${c.apolloFails}) but ${planner} now answers right`).not.toEqual(
          want,
        );
      else expect(got, detail).toEqual(want);
    });
  });
});
