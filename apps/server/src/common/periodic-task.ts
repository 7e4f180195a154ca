import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/**
 * A background pass a worker runs every so often (each relay source, eventId purge,
 * retention): an unref'd interval from bootstrap, never two passes at once in this process, and
 * shutdown waits (a few seconds at most: a pass may be stuck on an unreachable Redis) for the pass
 * in progress so it does not lose its database connection midway.
 * Running in several processes at once is each task's own concern (SKIP LOCKED, advisory locks).
 */
const SHUTDOWN_WAIT_MS = 5000;

export abstract class PeriodicTask implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<unknown> | undefined;

  /** Milliseconds between passes; 0 or less: not scheduled (a pass can still be run by hand). */
  protected abstract intervalMs(): number;

  /** One scheduled pass; it handles (logs) its own errors. */
  protected abstract pass(): Promise<unknown>;

  onApplicationBootstrap(): void {
    const ms = this.intervalMs();
    if (ms <= 0) return;
    this.timer = setInterval(() => void this.pass(), ms);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.current) return;
    await Promise.race([
      this.current.catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()),
    ]);
  }

  /** Runs `fn` unless a pass is already running in this process, in which case it answers `busy`. */
  protected async exclusive<T>(fn: () => Promise<T>, busy: T): Promise<T> {
    if (this.current) return busy;
    const run = fn();
    this.current = run;
    try {
      return await run;
    } finally {
      this.current = undefined;
    }
  }
}
