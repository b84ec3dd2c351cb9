// Pure picking rules of the replica pool: no I/O, no clocks of their own (P2C takes an injectable random).
import { LeastOutstanding } from './least-outstanding.ts';
import { P2cEwma } from './p2c-ewma.ts';
import { RoundRobin } from './round-robin.ts';
import type { Strategy, StrategyName } from './strategy.ts';

export { effectiveWeight, LeastOutstanding } from './least-outstanding.ts';
export { P2cEwma, PEAK_EWMA_PENALTY, PeakEwma, peakEwmaLoad } from './p2c-ewma.ts';
export { RoundRobin } from './round-robin.ts';
export type { Endpoint, Strategy, StrategyName } from './strategy.ts';

export const STRATEGY_NAMES: readonly StrategyName[] = ['p2c_ewma', 'least_outstanding', 'round_robin'];

export function createStrategy(name: StrategyName, deps: { random?: () => number } = {}): Strategy {
  switch (name) {
    case 'round_robin':
      return new RoundRobin();
    case 'least_outstanding':
      return new LeastOutstanding();
    case 'p2c_ewma':
      return new P2cEwma({ random: deps.random });
    default:
      throw new TypeError(`unknown pool strategy ${String(name)} (expected ${STRATEGY_NAMES.join(', ')})`);
  }
}
