import { PRIORITY_RANK, type Priority } from '@clarion/plugin-sdk';
import type { JobsOptions } from 'bullmq';

/**
 * Options of a notification's fan-out job: job id = notification id (re-adding is harmless),
 * delayed until sendAt, and prioritized like its deliveries so a high-priority topic send is
 * expanded before a queue of low ones.
 */
export function fanoutJobOptions(notificationId: string, priority: Priority, delayMs: number): JobsOptions {
  return {
    jobId: notificationId,
    priority: PRIORITY_RANK[priority],
    delay: Math.max(0, delayMs),
    attempts: 10,
    backoff: { type: 'exponential', delay: 1000 },
  };
}
