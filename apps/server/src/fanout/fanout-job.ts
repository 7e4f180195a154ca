import { FINISHED_JOBS_KEPT, PRIORITY_RANK, type Priority } from '@clarion/plugin-sdk';
import type { JobsOptions } from 'bullmq';

/** A fan-out job's data: the notification to expand, and where a run that stopped left off. */
export interface FanoutJobData {
  notificationId: string;
  appId: string;
  /** Resume point: last user id (topic) or next index (id list). */
  cursor?: string | number;
  /** Plugins the chunks so far were queued for: their backlog gates the next chunk. */
  feeds?: string[];
}

/**
 * Options of a notification's fan-out job: job id = notification id (re-adding is harmless),
 * delayed until sendAt, and prioritized like its deliveries so a high-priority topic send is
 * expanded before a queue of low ones. Finished jobs are trimmed as FINISHED_JOBS_KEPT says: a
 * re-add after the job is gone finds the notification no longer `fanout` and does nothing, and a
 * re-run of an unfinished one skips the chunks already written (so a fan-out that failed all its
 * attempts is tried again by the relay once its failed job is trimmed).
 */
export function fanoutJobOptions(notificationId: string, priority: Priority, delayMs: number): JobsOptions {
  return {
    jobId: notificationId,
    priority: PRIORITY_RANK[priority],
    delay: Math.max(0, delayMs),
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
    ...FINISHED_JOBS_KEPT,
  };
}
