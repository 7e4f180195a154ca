import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { deliveryJobOptions, FINISHED_JOBS_KEPT } from './queues';
import { makeJob } from './testing';

describe('delivery job options (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('queues');
  after(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  test('a provider failing every job leaves at most 10,000 failed jobs in Redis, the newest', async () => {
    const kept = FINISHED_JOBS_KEPT.removeOnFail.count;
    const total = kept + 200;
    const queue = new Queue('failing', { connection: redis, prefix });
    const jobs = Array.from({ length: total }, () =>
      makeJob({
        plugin: 'failing',
        channel: 'webhook',
        address: { kind: 'url', url: 'https://example.com/hook' },
      }),
    );
    for (let i = 0; i < total; i += 1000) {
      await queue.addBulk(
        jobs
          .slice(i, i + 1000)
          .map((j) => ({ name: 'deliver', data: j, opts: deliveryJobOptions(j, undefined) })),
      );
    }
    let failed = 0;
    const worker = new Worker(
      'failing',
      async () => {
        failed++;
        throw new UnrecoverableError('401 invalid API key');
      },
      { connection: redis.duplicate({ maxRetriesPerRequest: null }), prefix, concurrency: 200 },
    );
    try {
      await waitFor('every job failed', () => failed >= total, { timeoutMs: 60_000, intervalMs: 100 });
      const count = await waitFor('the failed set trimmed', async () => {
        const n = await queue.getJobCountByTypes('failed');
        return n <= kept ? n : undefined;
      });
      assert.equal(count, kept);
      assert.equal(await queue.getJob(jobs[0]!.deliveryId), undefined, 'the oldest failures are gone');
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
