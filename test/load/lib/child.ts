// Shared by the bench's child processes (subgraphs, Apollo Gateway runner): stop on SIGTERM/SIGINT, and
// stop by themselves when the bench is gone, even after a SIGKILL that gave it no chance to clean up.

/** Runs `stop` once on SIGTERM, SIGINT, or when the launcher named by TOLLGATE_PARENT_PID has exited. */
export function stopWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
  const parent = Number(process.env.TOLLGATE_PARENT_PID);
  if (Number.isInteger(parent) && parent > 0) {
    setInterval(() => {
      if (process.ppid !== parent) once();
    }, 1_000).unref();
  }
}
