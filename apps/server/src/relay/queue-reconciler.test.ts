import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pluginQueueName } from '@clarion/plugin-sdk';
import { type ClarionProcess, clearPrefix, startClarionProcess, testRedis, waitFor } from '@clarion/testkit';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';
import { QueueReconciler } from './queue-reconciler';

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
/** Ready to run (deliveries carry a priority, so BullMQ files them as `prioritized`). */
const READY = ['waiting', 'prioritized'];

/**
 * An API with no worker: deliveries stay `queued` with their jobs waiting in Redis, which is
 * what a worker starting later (or Redis losing its data) finds.
 */
describe('queue reconciler: re-adds the queued deliveries whose job Redis does not hold', () => {
  let h: Harness;
  let app: TestApp;
  const redis = testRedis();
  let queue: Queue;

  before(async () => {
    h = await startHarness({ label: 'reconcile', role: 'api' });
    app = await h.createApp();
    queue = new Queue(pluginQueueName('webhook'), { connection: redis.duplicate(), prefix: h.prefix });
  });
  after(async () => {
    await queue.close();
    redis.disconnect();
    await h.close();
  });

  const queuedDelivery = async (userId: string, body: Record<string, unknown> = {}) => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId }, content: { webhook: { json: { userId } } }, ...body },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    return waitFor('queued', async () => {
      const [row] = await sql<{ id: string; status: string; held_until: Date | null }>(
        h.db.url,
        'SELECT id, status, held_until FROM deliveries WHERE notification_id = $1',
        [id],
      );
      return row?.status === 'queued' ? row : undefined;
    });
  };

  test('a queued delivery whose job Redis still holds is left alone', async () => {
    await app.call('/v1/users/fresh', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/fresh` },
    });
    const d = await queuedDelivery('fresh');
    // What the next sweep runs: nothing is lost, so nothing is re-added.
    assert.equal(await h.app!.get(QueueReconciler).reconcile(0), 0);
    assert.ok(READY.includes(await queue.getJobState(d.id)), 'its job is still there, untouched');
  });

  test('after Redis lost everything, queued deliveries come back, and one held by quiet hours keeps its hold', async () => {
    const now = new Date();
    await app.call('/v1/users/quiet', {
      method: 'PUT',
      body: { timezone: 'UTC', webhookUrl: `${h.sandbox.url}/webhook/quiet` },
    });
    const prefs = await app.call('/v1/users/quiet/preferences', {
      method: 'PUT',
      body: {
        quietHours: {
          start: hhmm(new Date(now.getTime() - 3600_000)),
          end: hhmm(new Date(now.getTime() + 3 * 3600_000)),
        },
      },
    });
    assert.equal(prefs.status, 200);
    const held = await queuedDelivery('quiet');
    assert.ok(held.held_until && held.held_until.getTime() > Date.now() + 3600_000, 'held by quiet hours');
    await app.call('/v1/users/plain', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/plain` },
    });
    const plain = await queuedDelivery('plain');

    await clearPrefix(redis, h.prefix); // Redis restarted without persistence
    assert.equal(await queue.getJobState(held.id), 'unknown');

    assert.ok((await h.app!.get(QueueReconciler).reconcile(0)) >= 2);
    assert.ok(READY.includes(await queue.getJobState(plain.id)), 're-added, ready to run');
    assert.equal(await queue.getJobState(held.id), 'delayed', 'still held, not sent at once');
    const job = await queue.getJob(held.id);
    const dueAt = job!.timestamp + job!.delay;
    assert.ok(Math.abs(dueAt - held.held_until!.getTime()) < 5000, 'due when the quiet hours end');
    // Redis holds them again: the next pass re-adds nothing.
    assert.equal(await h.app!.get(QueueReconciler).reconcile(0), 0);
  });
});

/**
 * A Redis that comes back stale (a failover to a lagging replica, a restore of an older snapshot)
 * still holds everything written before the copy was taken, marker keys included, but not the
 * jobs added since. Simulated here by removing one job and leaving every other key in place.
 */
describe('queue reconciler: a job lost while the rest of Redis looks intact', () => {
  let h: Harness;
  let app: TestApp;
  const redis = testRedis();
  let queue: Queue;

  before(async () => {
    h = await startHarness({
      label: 'reconcilestale',
      env: { CLARION_SWEEP_INTERVAL_MS: '500', CLARION_SWEEP_AFTER_MS: '1000' },
    });
    app = await h.createApp();
    queue = new Queue(pluginQueueName('webhook'), { connection: redis.duplicate(), prefix: h.prefix });
  });
  after(async () => {
    await queue.resume().catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await h.close();
  });

  test('a queued delivery whose job is gone is re-added and sent once within a few sweeps', async () => {
    await app.call('/v1/users/lost', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/lost` },
    });
    await queue.pause(); // holds the job in Redis so the test can take it away
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'lost' }, content: { webhook: { json: { lost: true } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const delivery = await waitFor('queued', async () => {
      const [row] = await sql<{ id: string; status: string }>(
        h.db.url,
        'SELECT id, status FROM deliveries WHERE notification_id = $1',
        [id],
      );
      return row?.status === 'queued' ? row : undefined;
    });
    // Whatever other keys say (the old start-up marker, sent marks of other deliveries), this job is gone.
    await redis.set(`${h.prefix}:queues-intact`, new Date().toISOString());
    await queue.remove(delivery.id);
    assert.equal(await queue.getJobState(delivery.id), 'unknown');
    await queue.resume();

    await waitFor(
      'sent',
      async () => {
        const [row] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM deliveries WHERE id = $1', [
          delivery.id,
        ]);
        return row?.status === 'sent';
      },
      { timeoutMs: 15_000 },
    );
    assert.equal(receiptsById(h.sandbox, { notificationId: id }).get(delivery.id)?.accepted, 1);
  });
});

/**
 * A job whose last attempt could not write its outcome (the database was away when it reported
 * `failed`) ends in BullMQ's failed set while PostgreSQL still says `queued`. Redis holds the
 * job, so "is it there?" alone would leave the delivery `queued` for good.
 */
describe('queue reconciler: a job that ended without its outcome recorded', () => {
  let h: Harness;
  let app: TestApp;
  const redis = testRedis();
  let queue: Queue;
  let worker: ClarionProcess | undefined;

  before(async () => {
    h = await startHarness({ label: 'reconcileended', role: 'api' });
    app = await h.createApp();
    queue = new Queue(pluginQueueName('webhook'), { connection: redis.duplicate(), prefix: h.prefix });
  });
  after(async () => {
    await worker?.stop();
    await queue.close();
    redis.disconnect();
    await h.close();
  });

  test('a failed job whose delivery is still queued is run again, and the delivery ends sent once', async () => {
    await app.call('/v1/users/ended', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/ended` },
    });
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'ended' }, content: { webhook: { json: { ended: true } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const status = async () =>
      (
        await sql<{ id: string; status: string }>(
          h.db.url,
          'SELECT id, status FROM deliveries WHERE notification_id = $1',
          [id],
        )
      )[0];
    const delivery = await waitFor('queued', async () => {
      const row = await status();
      return row?.status === 'queued' ? row : undefined;
    });

    // Its last attempt: the outcome write fails, the job lands in the failed set, PostgreSQL is not told.
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    const failing = new Worker(
      pluginQueueName('webhook'),
      async () => {
        throw new UnrecoverableError('could not record the failure: database away');
      },
      { connection, prefix: h.prefix },
    );
    await waitFor('failed in Redis', async () => (await queue.getJobState(delivery.id)) === 'failed');
    await failing.close();
    connection.disconnect();
    assert.equal((await status())?.status, 'queued');

    assert.equal(await h.app!.get(QueueReconciler).reconcile(0), 1);
    assert.ok(READY.includes(await queue.getJobState(delivery.id)), 'run again: ready for a worker');
    assert.equal(await h.app!.get(QueueReconciler).reconcile(0), 0, 'once: the new job is left alone');

    worker = await startClarionProcess({
      main: join(__dirname, '..', 'cli', 'main.js'),
      role: 'worker',
      env: h.childEnv(),
      output: 'capture',
    });
    await waitFor('sent', async () => (await status())?.status === 'sent', { timeoutMs: 20_000 });
    assert.equal(receiptsById(h.sandbox, { notificationId: id }).get(delivery.id)?.accepted, 1);
  });
});
