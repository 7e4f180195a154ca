import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DeliveryJob, deliveryJobOptions, gateKeys, pluginQueueName } from '@clarion/plugin-sdk';
import { testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { jobSql } from '../deliveries/store/stored-job';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';

/**
 * PostgreSQL decides what was sent; Redis's sent mark is its cache. What Redis can lose (a
 * failover to a lagging replica, a restore of an older snapshot) is simulated by deleting the
 * mark and adding the delivery's job again, as the stale copy would hold it.
 */
describe('a delivery PostgreSQL records as sent is never sent again', () => {
  let h: Harness;
  let app: TestApp;
  const redis = testRedis();
  let queue: Queue;

  before(async () => {
    h = await startHarness({ label: 'durablesent' });
    app = await h.createApp();
    queue = new Queue(pluginQueueName('webhook'), { connection: redis.duplicate(), prefix: h.prefix });
    await app.call('/v1/users/once', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/once` },
    });
  });
  after(async () => {
    await queue.resume().catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await h.close();
  });

  /** Sends one notification and returns its delivery's job as Redis held it, once it was sent. */
  const sendOne = async (n: number): Promise<{ notificationId: string; job: DeliveryJob }> => {
    await queue.pause(); // so the job can be read before it runs
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'once' }, content: { webhook: { json: { n } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const job = await waitFor('queued', async () => {
      const [row] = await sql<{ status: string; job: DeliveryJob | null }>(
        h.db.url,
        `SELECT d.status, ${jobSql('d')} AS job FROM deliveries d WHERE d.notification_id = $1`,
        [id],
      );
      return row?.status === 'queued' && row.job ? row.job : undefined;
    });
    await queue.resume();
    await waitFor('sent', async () => (await statusOf(job.deliveryId)) === 'sent');
    await waitFor('its job completed', async () => (await queue.getJobState(job.deliveryId)) === 'unknown');
    return { notificationId: id, job };
  };
  const statusOf = async (deliveryId: string) =>
    (await sql<{ status: string }>(h.db.url, 'SELECT status FROM deliveries WHERE id = $1', [deliveryId]))[0]
      ?.status;
  const sentEvents = async (deliveryId: string) =>
    (
      await sql<{ n: number }>(
        h.db.url,
        // A `sent` is a history row, or the row's own `sent_event` (deliveries/store/record-outcomes.ts).
        `SELECT ((SELECT count(*) FROM delivery_events WHERE delivery_id = $1 AND status = 'sent')
                 + (SELECT count(*) FROM deliveries WHERE id = $1 AND sent_event IS NOT NULL))::int AS n`,
        [deliveryId],
      )
    )[0]!.n;
  /** Adds the job again and waits until a worker has run it (a completed delivery job is dropped). */
  const runAgain = async (job: DeliveryJob) => {
    await queue.add('deliver', job, deliveryJobOptions(job, undefined));
    await waitFor('the job ran again', async () => (await queue.getJobState(job.deliveryId)) === 'unknown');
  };

  test('Redis lost the sent mark and the job came back: not sent again, no second `sent` in the history', async () => {
    const { notificationId, job } = await sendOne(1);
    assert.equal(await sentEvents(job.deliveryId), 1);

    assert.equal(await redis.del(gateKeys.sent(h.prefix, job.deliveryId)), 1, 'the mark was there');
    await runAgain(job);

    assert.equal(
      receiptsById(h.sandbox, { notificationId }).get(job.deliveryId)?.accepted,
      1,
      'received once',
    );
    assert.equal(await sentEvents(job.deliveryId), 1);
    assert.equal(await statusOf(job.deliveryId), 'sent');
    assert.equal(await redis.exists(gateKeys.sent(h.prefix, job.deliveryId)), 1, 'the mark is back in Redis');
  });

  test('a job run again that finds the sent mark records nothing new', async () => {
    const { notificationId, job } = await sendOne(2);
    await runAgain(job);
    assert.equal(receiptsById(h.sandbox, { notificationId }).get(job.deliveryId)?.accepted, 1);
    assert.equal(await sentEvents(job.deliveryId), 1, 'one `sent` event');
  });
});
