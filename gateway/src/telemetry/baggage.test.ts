import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { filterBaggage } from './baggage.ts';

const withBaggage = (entries: Record<string, string>) =>
  propagation.setBaggage(
    ROOT_CONTEXT,
    propagation.createBaggage(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { value: v }]))),
  );
const keysOf = (ctx: ReturnType<typeof withBaggage>) =>
  propagation
    .getBaggage(ctx)
    ?.getAllEntries()
    .map(([k, e]) => `${k}=${e.value}`);

describe('filterBaggage', () => {
  const client = { userId: 'attacker', role: 'admin', tenant: 'acme' };
  it.each([
    [[], undefined],
    [['tenant'], ['tenant=acme']],
    [['Tenant'], undefined],
    [
      ['tenant', 'role'],
      ['role=admin', 'tenant=acme'],
    ],
    [
      ['tenant', 'role', 'userId'],
      ['userId=attacker', 'role=admin', 'tenant=acme'],
    ],
  ])('allowKeys %j keeps %j', (allow, expected) => {
    const kept = keysOf(filterBaggage(withBaggage(client), new Set(allow)));
    expect(kept?.sort()).toEqual(expected?.sort());
  });

  it('leaves a context without baggage unchanged', () => {
    expect(filterBaggage(ROOT_CONTEXT, new Set(['tenant']))).toBe(ROOT_CONTEXT);
  });

  it('keeps an entry metadata', () => {
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({
        tenant: { value: 'acme', metadata: propagation.createBaggage().getEntry('x')?.metadata },
      }),
    );
    expect(propagation.getBaggage(filterBaggage(ctx, new Set(['tenant'])))?.getEntry('tenant')?.value).toBe(
      'acme',
    );
  });
});
