import type { Env } from '../config/env';

/**
 * When the relay looks at PostgreSQL, from the operator's settings:
 * - CLARION_SWEEP_INTERVAL_MS: how often it looks for deliveries left `pending`, fan-outs without
 *   a job and `queued` deliveries whose job Redis lost;
 * - CLARION_SWEEP_AFTER_MS: how old such work must be before it counts as left behind (younger
 *   work is simply in flight); pending deliveries are enqueued at most interval + after (15 s) late;
 * - CLARION_SCHEDULE_CHECK_INTERVAL_MS: how often due scheduled notifications are moved on.
 */
export interface RelaySettings {
  sweepEveryMs: number;
  graceMs: number;
  dueEveryMs: number;
}

export function relaySettings(env: Env): RelaySettings {
  return {
    sweepEveryMs: env.CLARION_SWEEP_INTERVAL_MS,
    graceMs: env.CLARION_SWEEP_AFTER_MS,
    dueEveryMs: env.CLARION_SCHEDULE_CHECK_INTERVAL_MS,
  };
}
