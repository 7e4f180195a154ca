import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BATCH_JOB_NAME, DELIVERY_BATCH_SIZE } from '@clarion/plugin-sdk';
import { testRedis, waitFor } from '@clarion/testkit';
import { QueueRegistry } from '../delivery/queue-registry';
import { withAudience } from '../testing/audience';
import { sql } from '../testing/db';
import { type Harness, json, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';
import { QueueReconciler } from './queue-reconciler';

const USERS = 230; // four full batches and a short one

/**
 * A campaign's deliveries travel in batch jobs (ingest/delivery-batches.ts), not a job each: the
 * queue reconciler must count a waiting batch as their job, and re-add them one by one when Redis
 * lost the batch (or holds it as failed).
 */
describe('queue reconciler: deliveries carried by batch jobs', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    ({ h, app } = await withAudience({ label: 'reconcilebatch', users: USERS, prefix: 'b' }));
  });
  after(() => h.close());

  test('a waiting batch holds its deliveries; lost from Redis, they are re-added one by one and each sent once', async () => {
    const queue = h.app!.get(QueueRegistry).forPlugin('webhook');
    await queue.pause(); // the provider takes nothing: the campaign's jobs wait
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'all' }, content: { webhook: { json: { hello: '{{ user.id }}' } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const batches = await waitFor('the campaign queued in batches', async () => {
      const jobs = await queue.getJobs(['prioritized', 'waiting']);
      return jobs.length === Math.ceil(USERS / DELIVERY_BATCH_SIZE) ? jobs : undefined;
    });
    assert.ok(batches.every((j) => j.name === BATCH_JOB_NAME));
    const rows = await sql<{ batch: string }>(
      h.db.url,
      `SELECT job->>'batch' AS batch FROM deliveries WHERE notification_id = $1 AND status = 'queued'`,
      [id],
    );
    assert.equal(rows.length, USERS);
    assert.deepEqual(
      new Set(rows.map((r) => r.batch)),
      new Set(batches.map((j) => j.id)),
      'each row names the batch job that carries it',
    );

    const reconciler = h.app!.get(QueueReconciler);
    assert.equal(await reconciler.reconcile(0), 0, 'batches waiting: nothing re-added');

    // Redis loses two batches, and a third ends failed (held in the failed set) without outcomes.
    const [lost1, lost2, failed] = batches;
    await lost1!.remove();
    await lost2!.remove();
    // As BullMQ files a job whose last attempt failed: its hash kept, its id in the failed set.
    const client = testRedis();
    await client.zrem(queue.toKey('prioritized'), failed!.id!);
    await client.zadd(queue.toKey('failed'), Date.now(), failed!.id!);
    client.disconnect();
    const carried = (b: typeof lost1) => (b!.data as { deliveries: unknown[] }).deliveries.length;
    const expected = carried(lost1) + carried(lost2) + carried(failed);
    assert.equal(await reconciler.reconcile(0), expected, 'their deliveries re-added, each its own job');
    assert.equal(await reconciler.reconcile(0), 0, 'and only once');

    await queue.resume();
    await waitFor(
      'every delivery sent',
      async () => {
        const n = await json<{ summary: Record<string, number> }>(
          await app.call(`/v1/notifications/${id}?limit=1`),
        );
        return n.summary.sent === USERS;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const receipts = receiptsById(h.sandbox, { notificationId: id });
    assert.equal(receipts.size, USERS);
    assert.deepEqual(
      [...receipts.values()].filter((r) => r.accepted !== 1),
      [],
      'no delivery received twice',
    );
  });
});
