import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pluginQueueName } from '@clarion/plugin-sdk';
import { clearPrefix, TEST_REDIS_URL, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { tcpProxy } from '../testing/tcp-proxy';
import { QueueReconciler } from './queue-reconciler';

const hhmm = (d: Date) => d.toISOString().slice(11, 16);
/** Ready to run (deliveries carry a priority, so BullMQ files them as `prioritized`). */
const READY = ['waiting', 'prioritized'];

/**
 * An API with no worker: deliveries stay `queued` with their jobs waiting in Redis, which is
 * what a worker starting later (or Redis losing its data) finds.
 */
describe('queue reconciler: re-adds queued deliveries only when Redis really lost them', () => {
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

  test('an API process whose Redis is slow to answer at start still checks the queues before it serves', async () => {
    // Its producer connection has no offline queue: a command sent before the connection is ready
    // fails at once. The start-up check used to be skipped that way (with a warning).
    const prefix = testPrefix('boot');
    const redisProxy = await tcpProxy(TEST_REDIS_URL, { holdMs: 4000 });
    const processes = new Processes();
    try {
      const api = await processes.startClarion(
        'api-slow-redis',
        'api',
        h.childEnv({
          CLARION_QUEUE_PREFIX: prefix,
          REDIS_URL: redisProxy.via(TEST_REDIS_URL),
          CLARION_MIGRATE_ON_START: 'false',
        }),
      );
      assert.equal(await redis.exists(`${prefix}:queues-intact`), 1, 'the marker is written at start');
      assert.doesNotMatch(api.output(), /could not check the queues/);
    } finally {
      await processes.killAll();
      await redisProxy.close();
      await clearPrefix(redis, prefix);
    }
  });

  test('a new install is not taken for a lost Redis: the API claims the empty Redis at start', async () => {
    await app.call('/v1/users/fresh', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/fresh` },
    });
    const d = await queuedDelivery('fresh');
    // What a worker starting now (or the next sweep) runs: nothing is lost, so nothing is re-added.
    assert.equal(await h.app!.get(QueueReconciler).reconcileIfRedisLost(), 0);
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

    assert.ok((await h.app!.get(QueueReconciler).reconcileIfRedisLost()) >= 2);
    assert.ok(READY.includes(await queue.getJobState(plain.id)), 're-added, ready to run');
    assert.equal(await queue.getJobState(held.id), 'delayed', 'still held, not sent at once');
    const job = await queue.getJob(held.id);
    const dueAt = job!.timestamp + job!.delay;
    assert.ok(Math.abs(dueAt - held.held_until!.getTime()) < 5000, 'due when the quiet hours end');
    // The marker is back: the next check re-adds nothing.
    assert.equal(await h.app!.get(QueueReconciler).reconcileIfRedisLost(), 0);
  });
});
