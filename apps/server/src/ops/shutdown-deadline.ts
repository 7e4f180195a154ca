/**
 * Graceful shutdown drains in-flight sends, but a drain that cannot finish (Redis or PostgreSQL
 * unreachable, a provider that never answers) must not keep the process alive forever: after
 * `timeoutMs` from the first SIGTERM/SIGINT the process exits with code 1. Jobs it still held
 * are recovered by another worker once their lock expires (CLARION_JOB_LOCK_MS).
 */
export function armShutdownDeadline(
  timeoutMs: number,
  log: (message: string) => void = (m) => console.error(m),
): void {
  const arm = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      log(
        `clarion: graceful shutdown did not finish within ${timeoutMs} ms of ${signal} (CLARION_SHUTDOWN_TIMEOUT_MS); exiting`,
      );
      process.exit(1);
    }, timeoutMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
