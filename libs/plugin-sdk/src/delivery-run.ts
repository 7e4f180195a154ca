import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { DeliveryBatch, DeliveryJob } from './message';

/**
 * One run of one delivery, and how it ends when it is not sent now. A delivery with a job of its
 * own ends the BullMQ way (a delayed job, a thrown error that BullMQ retries, a rate-limited queue,
 * a job in the failed set). A delivery carried by a batch job cannot: the job is shared. It is
 * split out instead, as a job of its own that waits or retries from where it stopped (its
 * `priorAttempts`), and the batch goes on with the others.
 */
export interface DeliveryRun {
  readonly delivery: DeliveryJob;
  /** This attempt's number, counting attempts spent in a batch before. */
  readonly attempt: number;
  /** The attempts this delivery may spend in all. */
  readonly maxAttempts: number;
  /** Runs that spent no attempt (the provider throttled this address), this one included. */
  readonly throttledRuns: number;
  /** Runs again after `ms`, spending no attempt; `next` is the delivery as it runs then. */
  later(ms: number, next?: DeliveryJob): Promise<string>;
  /** The provider throttles the account: no job of this queue starts for `ms`, this one runs again after. */
  pause(ms: number, next: DeliveryJob): Promise<string>;
  /** Runs again after the backoff, this attempt spent. */
  retry(error: Error, backoffMs: (attempt: number, error: Error) => number): Promise<string>;
  /** Ended for good, its outcome reported: a job of its own stays in the failed set (the dead-letter view). */
  failed(message: string): Promise<string>;
  /**
   * The provider call is over (sent or not): a batch's send slot goes to its next delivery while
   * this one's outcome is written. Absent for a job of its own (BullMQ's concurrency holds it).
   */
  readonly sendEnded?: () => void;
}

/** A delivery split out of a batch: a job of its own, due after `delayMs`. */
export interface SplitOut {
  delivery: DeliveryJob;
  delayMs: number;
}

/** The run of a delivery whose job is its own: BullMQ's control flow. */
export function ownJobRun(job: Job<DeliveryJob>, token: string | undefined, worker: Worker): DeliveryRun {
  const prior = job.data.priorAttempts ?? 0;
  return {
    delivery: job.data,
    attempt: job.attemptsMade + 1 + prior,
    maxAttempts: (job.opts.attempts ?? 1) + prior,
    // BullMQ counts every run in attemptsStarted and only failed ones in attemptsMade: the
    // difference is the runs that spent none (throttled ones, waits for a circuit or the database).
    throttledRuns: Math.max(1, job.attemptsStarted - job.attemptsMade),
    async later(ms, next) {
      if (next) await job.updateData(next);
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError(); // not a failure, no attempt spent
    },
    async pause(ms, next) {
      // Counted in the job itself: it survives the worker, and attemptsMade does not move.
      await job.updateData(next);
      await worker.rateLimit(ms);
      throw Worker.RateLimitError();
    },
    async retry(error) {
      throw error; // BullMQ schedules the retry through the worker's backoff strategy
    },
    async failed(message) {
      throw new UnrecoverableError(message);
    },
  };
}

/**
 * The run of a delivery carried by a batch job. What must wait or retry is pushed to `splits`,
 * which the runtime adds as jobs of their own once the batch's sends are done.
 */
export function batchRun(
  delivery: DeliveryJob,
  maxAttempts: number,
  worker: Worker,
  splits: SplitOut[],
  sendEnded?: () => void,
): DeliveryRun {
  const { batch: _carriedBy, ...own } = delivery;
  const prior = delivery.priorAttempts ?? 0;
  const attempt = prior + 1;
  const split = (next: DeliveryJob, priorAttempts: number, delayMs: number, kind: string) => {
    const { batch: _b, ...rest } = next;
    splits.push({ delivery: { ...rest, priorAttempts }, delayMs });
    return Promise.resolve(kind);
  };
  return {
    delivery,
    attempt,
    maxAttempts,
    throttledRuns: 1,
    later: (ms, next) => split(next ?? own, prior, ms, 'later'),
    async pause(ms, next) {
      await worker.rateLimit(ms);
      return split(next, prior, ms, 'paused');
    },
    retry: (error, backoffMs) => split(own, attempt, backoffMs(attempt, error), 'retrying'),
    failed: () => Promise.resolve('failed'),
    ...(sendEnded ? { sendEnded } : {}),
  };
}

/** Whether a job is a batch job (by its data: the job name is the producer's to choose). */
export function isBatch(data: DeliveryJob | DeliveryBatch): data is DeliveryBatch {
  return Array.isArray((data as DeliveryBatch).deliveries);
}
