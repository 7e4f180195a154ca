import { waitFor } from './wait';

/** What the wait needs of a BullMQ Queue or Job holder, so the testkit carries no BullMQ of its own. */
export interface JobStates {
  getJobState(jobId: string): Promise<string>;
}

/**
 * Waits until a job that was added has completed. Delivery jobs are dropped from Redis the moment
 * they complete, so a completed one reads "unknown"; a failed job stays, and fails the wait at once.
 */
export async function waitForJobCompleted(
  queue: JobStates,
  jobId: string,
  timeoutMs = 30_000,
): Promise<void> {
  let failed = false;
  await waitFor(
    `job ${jobId} to complete`,
    async () => {
      const state = await queue.getJobState(jobId);
      failed = state === 'failed';
      return failed || state === 'completed' || state === 'unknown';
    },
    { timeoutMs },
  );
  if (failed) throw new Error(`job ${jobId} failed instead of completing`);
}
