import type { JobsOptions } from 'bullmq';
import type { DeliveryJob, Priority } from './message';
import { DEFAULT_PROCESSOR, type ProcessorSettings } from './plugin';

/**
 * BullMQ key prefix. The braces are a Redis Cluster hash tag: every key of a queue lands in one
 * slot, which BullMQ's multi-key Lua scripts require (see queuePrefix for one tag per queue).
 */
export const DEFAULT_QUEUE_PREFIX = '{clarion}';

/**
 * The key prefix of one queue: its BullMQ keys and, for a plugin queue, its send gate and sent
 * ledger. `perQueue` false: every queue shares `prefix`, one hash tag (a single node or Sentinel,
 * where slots do not matter). `perQueue` true (Redis Cluster): `{clarion}` and `clarion.apns` give
 * `{clarion/clarion.apns}`, a hash tag per queue, so queues spread over the shards while each
 * queue's multi-key scripts still find all their keys in one slot (BullMQ's cluster rule).
 */
export function queuePrefix(prefix: string, queueName: string, perQueue: boolean): string {
  if (!perQueue) return prefix;
  return `{${prefix.replace(/^\{|\}$/g, '')}/${queueName}}`;
}

/** `apns` → `clarion.apns`. No `:` (BullMQ reserves it). */
export function pluginQueueName(pluginName: string): string {
  return `clarion.${pluginName}`;
}

/** BullMQ: lower number = sooner. Every job gets one so the order is high, normal, low. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 1, normal: 2, low: 3 };

/** Name of the runtime's backoff strategy, registered on every plugin worker. */
export const BACKOFF_STRATEGY = 'clarion';

/**
 * Job options for one delivery. The job id is the delivery id (a UUID, so never all digits and
 * never containing `:`): while its job waits or runs, a re-enqueue by the sweeper or the
 * reconciler is a no-op. Once the job has completed (and is dropped, see DELIVERY_JOBS_KEPT) the
 * delivery is no longer `pending` or `queued`, and a late re-add finds it sent (the sent ledger, or
 * the host's durable record behind it).
 */
export function deliveryJobOptions(
  job: DeliveryJob,
  processor: ProcessorSettings | undefined,
  delayMs = 0,
): JobsOptions {
  return {
    jobId: job.deliveryId,
    priority: PRIORITY_RANK[job.priority],
    attempts: processor?.attempts ?? DEFAULT_PROCESSOR.attempts,
    backoff: { type: BACKOFF_STRATEGY },
    ...(delayMs > 0 ? { delay: delayMs } : {}),
    ...DELIVERY_JOBS_KEPT,
  };
}

/**
 * How many finished jobs a queue keeps in Redis, for inspection (fan-out and status-webhook jobs,
 * and failed delivery jobs; every delivery outcome is in PostgreSQL).
 * Both by age and by count: a provider that refuses everything (a revoked API key) fails jobs as
 * fast as they arrive, and a day of e-mail jobs with their HTML kept under `noeviction` would fill
 * Redis and stop every queue. The count keeps the newest.
 */
export const FINISHED_JOBS_KEPT = {
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600, count: 10_000 },
} as const satisfies Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'>;

/**
 * What Redis keeps of a finished delivery job. A completed one is dropped at once: its outcome is
 * in PostgreSQL (written before the job completes), and the sent ledger, not the job, stops a
 * repeat send. Keeping the newest 10,000 meant trimming that set on every completion, about a sixth
 * of Redis's CPU per delivery in the bench. Failed ones stay as FINISHED_JOBS_KEPT says: that is
 * the dead-letter view.
 */
export const DELIVERY_JOBS_KEPT = {
  removeOnComplete: true,
  removeOnFail: FINISHED_JOBS_KEPT.removeOnFail,
} as const satisfies Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'>;
