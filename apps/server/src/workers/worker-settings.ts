import type { CircuitSettings, ProcessorSettings } from '@clarion/plugin-sdk';
import type { Env } from '../config/env';

/**
 * The operator's overrides of a plugin's processor settings: worker concurrency, and the queue's
 * send rate (CLARION_PLUGIN_RATE_LIMITS, see config/plugin-rate-limits.ts; shared by every worker of the plugin —
 * set it to the sender's throughput, e.g. 1/s for a US long code, 100/s for a short code).
 */
export function workerProcessor(env: Env, plugin: string): ProcessorSettings {
  const limiter = env.CLARION_PLUGIN_RATE_LIMITS[plugin];
  const base = env.CLARION_RETRY_BACKOFF_BASE_MS;
  return {
    ...(base
      ? { backoff: { baseMs: base, maxMs: Math.max(base, env.CLARION_RETRY_BACKOFF_MAX_MS ?? 64 * base) } }
      : {}),
    ...(env.CLARION_WORKER_CONCURRENCY ? { concurrency: env.CLARION_WORKER_CONCURRENCY } : {}),
    ...(limiter ? { limiter } : {}),
  };
}

/** How a dead worker's jobs are found and run again (BullMQ's lock and stalled-job check). */
export interface JobLockSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/**
 * A live worker renews its jobs' locks every half lock, so a dead one's locks lapse half a lock
 * to a lock after it died; the stalled check (every quarter lock, one worker per queue at a time)
 * then moves its jobs back to wait. With the 10 s default a killed worker's jobs run again about
 * 5–13 s after the kill. Shorter costs one Redis script per check per queue, and a worker
 * whose event loop stalls longer than the lock (it is not dead) would see its jobs run twice.
 */
export function jobLockSettings(env: Env): JobLockSettings {
  return {
    lockDurationMs: env.CLARION_JOB_LOCK_MS,
    stalledIntervalMs: Math.max(500, Math.round(env.CLARION_JOB_LOCK_MS / 4)),
    maxStalledCount: env.CLARION_JOB_MAX_STALLS,
  };
}

export function circuitSettings(env: Env): CircuitSettings | false {
  if (env.CLARION_CIRCUIT_FAILURE_THRESHOLD === 0) return false;
  return {
    failureThreshold: env.CLARION_CIRCUIT_FAILURE_THRESHOLD,
    windowMs: env.CLARION_CIRCUIT_WINDOW_MS,
    cooldownMs: env.CLARION_CIRCUIT_COOLDOWN_MS,
  };
}
