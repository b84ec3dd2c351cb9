/**
 * An error reporter that writes at most one line per `intervalMs` to stderr (`prefix: message suffix`),
 * for a dependency that fails on every call while it is down (Redis, PostgreSQL): one line says it is
 * down, not thousands.
 */
export function throttledErrorLog(prefix: string, suffix = '', intervalMs = 10_000): (err: Error) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (err) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    console.error(`${prefix}: ${err.message}${suffix}`);
  };
}
