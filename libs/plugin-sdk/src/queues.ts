import type { JobsOptions } from 'bullmq';
import type { DeliveryBatch, DeliveryJob, Priority } from './message';
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

/** The name of a job carrying one delivery; a batch job (DeliveryBatch) is named BATCH_JOB_NAME. */
export const DELIVERY_JOB_NAME = 'deliver';
export const BATCH_JOB_NAME = 'deliver-batch';

/**
 * How many deliveries a batch job carries at most. A campaign's deliveries then cost their queue
 * one add, one fetch and one completion per fifty instead of per delivery, which was about a third
 * of the worker's and most of Redis's CPU per delivery in the campaign bench.
 */
export const DELIVERY_BATCH_SIZE = 50;

/** The id of the batch job whose first delivery is `firstDeliveryId` (never a delivery's own job id). */
export function batchJobId(firstDeliveryId: string): string {
  return `batch-${firstDeliveryId}`;
}

/**
 * Job options for a batch job. Its deliveries' own failures never fail it (each one that must
 * wait or retry gets a job of its own), so its attempts only cover the runtime failing to hand
 * those on (Redis away). Dropped once completed, like a delivery job.
 */
export function batchJobOptions(batch: DeliveryBatch, processor: ProcessorSettings | undefined): JobsOptions {
  const first = batch.deliveries[0];
  if (!first?.batch) throw new Error('a batch job needs deliveries that name their batch');
  return {
    jobId: first.batch,
    priority: PRIORITY_RANK[first.priority],
    attempts: processor?.attempts ?? DEFAULT_PROCESSOR.attempts,
    backoff: { type: BACKOFF_STRATEGY },
    ...DELIVERY_JOBS_KEPT,
  };
}

/**
 * Job options for a delivery split out of a batch (to wait or to retry): its own job, id the
 * delivery id, with the attempts the batch did not spend.
 */
export function splitJobOptions(
  job: DeliveryJob,
  processor: ProcessorSettings | undefined,
  delayMs: number,
): JobsOptions {
  const options = deliveryJobOptions(job, processor, delayMs);
  return { ...options, attempts: Math.max(1, (options.attempts ?? 1) - (job.priorAttempts ?? 0)) };
}
