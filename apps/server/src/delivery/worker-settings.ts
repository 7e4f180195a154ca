import type { CircuitSettings, ProcessorSettings } from '@clarion/plugin-sdk';
import type { Env } from '../config/env';

/**
 * The operator's overrides of a plugin's processor settings: worker concurrency, and the queue's
 * send rate (CLARION_PLUGIN_RATE_LIMITS, see ratelimits/plugin-rate-limits.ts; shared by every worker of the plugin —
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

export function circuitSettings(env: Env): CircuitSettings | false {
  if (env.CLARION_CIRCUIT_FAILURE_THRESHOLD === 0) return false;
  return {
    failureThreshold: env.CLARION_CIRCUIT_FAILURE_THRESHOLD,
    windowMs: env.CLARION_CIRCUIT_WINDOW_MS,
    cooldownMs: env.CLARION_CIRCUIT_COOLDOWN_MS,
  };
}
