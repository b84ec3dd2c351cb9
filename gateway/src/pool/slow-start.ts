export interface SlowStartOptions {
  /** Length of the ramp in ms; 0 turns slow start off. */
  windowMs: number;
  /** Shape of the ramp: 1 is linear, above 1 starts slower. @default 1 */
  aggression?: number;
  /** The weight never drops below this share of the full weight. @default 10 */
  minWeightPercent?: number;
}

/**
 * Envoy's slow-start factor (`slow_start.rst`): `max(minWeight%, timeFactor ^ (1 / aggression))` with
 * `timeFactor = max(elapsed, 1) / window`; 1 once the window has passed. The pool multiplies a replica's
 * weight by it, so a replica that joins or recovers is eased in instead of receiving its full share
 * while its caches, JIT and connection pools are cold.
 */
export function slowStartFactor(elapsedMs: number, options: SlowStartOptions): number {
  const { windowMs, aggression = 1, minWeightPercent = 10 } = options;
  if (windowMs <= 0 || elapsedMs >= windowMs) return 1;
  const timeFactor = Math.max(elapsedMs, 1) / windowMs;
  return Math.min(1, Math.max(minWeightPercent / 100, timeFactor ** (1 / aggression)));
}
