import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import {
  DELIVERY_JOBS_KEPT,
  deliveryJobOptions,
  FINISHED_JOBS_KEPT,
  pluginQueueName,
  queuePrefix,
} from './queues';
import { makeJob } from './testing';

describe('delivery job options (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('queues');
  after(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  test('a completed delivery job leaves nothing in Redis; a failed one stays for the dead-letter view', async () => {
    const job = () =>
      makeJob({
        plugin: 'finishing',
        channel: 'webhook',
        address: { kind: 'url', url: 'https://example.com/hook' },
      });
    const ok = job();
    const bad = job();
    const { removeOnComplete, removeOnFail } = deliveryJobOptions(ok, undefined);
    assert.deepEqual({ removeOnComplete, removeOnFail }, DELIVERY_JOBS_KEPT);
    const queue = new Queue('finishing', { connection: redis, prefix });
    await queue.addBulk(
      [ok, bad].map((j) => ({ name: 'deliver', data: j, opts: deliveryJobOptions(j, undefined) })),
    );
    const worker = new Worker(
      'finishing',
      async (job) => {
        if (job.data.deliveryId === bad.deliveryId) throw new UnrecoverableError('invalid address');
      },
      { connection: redis.duplicate({ maxRetriesPerRequest: null }), prefix },
    );
    try {
      await waitFor('the bad job failed', async () => (await queue.getJobState(bad.deliveryId)) === 'failed');
      await waitFor('the good job done', async () => (await queue.getJobState(ok.deliveryId)) === 'unknown');
      assert.equal(await queue.getJobCountByTypes('completed'), 0);
      assert.equal(await redis.exists(`${prefix}:finishing:${ok.deliveryId}`), 0, 'no job hash left');
      assert.equal(await queue.getJobCountByTypes('failed'), 1);
    } finally {
      await worker.close();
      await queue.close();
    }
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

describe('queue prefixes', () => {
  test('shared: every queue under the one tag; per queue (Redis Cluster): a tag of its own', () => {
    assert.equal(queuePrefix('{clarion}', pluginQueueName('apns'), false), '{clarion}');
    assert.equal(queuePrefix('{clarion}', pluginQueueName('apns'), true), '{clarion/clarion.apns}');
    assert.equal(queuePrefix('{clarion}', pluginQueueName('fcm'), true), '{clarion/clarion.fcm}');
  });
});
