import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it returns a truthy value or the timeout passes; the error says what was awaited.
 * The default deadline is generous (30 s): it bounds "eventually", it is not a speed assertion, and CI
 * runs on a shared 2-core machine whose speed drifts by 2×.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}
