import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pluginQueueName } from '@clarion/plugin-sdk';
import { waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { OwnRedis } from '../testing/own-redis';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const EACH = 10;

/**
 * Redis comes back from a snapshot taken before the last work was done (a failover to a replica
 * that lagged, a crash with AOF `everysec`): what was sent after the snapshot comes back as jobs
 * still to run, without their sent marks, and what was queued after it comes back not at all.
 * The plugin queue is paused while jobs must wait, so what the snapshot holds is exact.
 */
describe('Redis restarted from a stale snapshot', () => {
  let h: Harness;
  let app: TestApp;
  let redis: OwnRedis;
  let queue: Queue;
  const processes = new Processes();
  const dir = mkdtempSync(join(tmpdir(), 'clarion-stale-redis-'));

  before(async () => {
    redis = await OwnRedis.start(processes, { dir });
    h = await startHarness({
      label: 'stalesnap',
      env: { REDIS_URL: redis.url, CLARION_SWEEP_INTERVAL_MS: '500', CLARION_SWEEP_AFTER_MS: '1000' },
    });
    app = await h.createApp();
    queue = new Queue(pluginQueueName('webhook'), {
      connection: new Redis(redis.url, { maxRetriesPerRequest: null }),
      prefix: h.prefix,
    });
    await app.call('/v1/users/stale', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/stale` },
    });
  });
  after(async () => {
    if (!redis.running) await redis.up().catch(() => undefined);
    await queue.close();
    await h.close();
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `EACH` notifications and waits until their deliveries are queued; returns the notification ids. */
  const sendQueued = async (batch: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < EACH; i++) {
      const res = await app.call('/v1/notifications', {
        body: { to: { userId: 'stale' }, content: { webhook: { json: { batch, i } } } },
      });
      assert.equal(res.status, 202);
      ids.push((await json<{ id: string }>(res)).id);
    }
    await waitFor('queued', async () => (await statuses(ids)).every((s) => s.status === 'queued'));
    return ids;
  };
  const statuses = (notificationIds: string[]) =>
    sql<{ id: string; status: string; sent_events: number }>(
      h.db.url,
      `SELECT d.id, d.status,
              (SELECT count(*)::int FROM delivery_events e WHERE e.delivery_id = d.id AND e.status = 'sent')
                + (d.sent_event IS NOT NULL)::int AS sent_events
         FROM deliveries d WHERE d.notification_id = ANY($1::uuid[])`,
      [notificationIds],
    );
  const allSent = async (notificationIds: string[]) => {
    const rows = await statuses(notificationIds);
    return rows.length === notificationIds.length && rows.every((r) => r.status === 'sent');
  };

  test('nothing is sent twice and nothing stays queued', async () => {
    await queue.pause();
    const sentAfterSnapshot = await sendQueued('a');
    await redis.snapshot(); // holds their jobs, waiting, and no sent marks
    await queue.resume();
    await waitFor('the first batch sent', () => allSent(sentAfterSnapshot));

    await queue.pause();
    const queuedAfterSnapshot = await sendQueued('b'); // their jobs exist only after the snapshot
    await redis.down();
    await redis.up(); // back from the snapshot: queue paused, the first batch's jobs waiting again
    const firstBatchJobs = (await statuses(sentAfterSnapshot)).map((r) => r.id);
    const restored = await Promise.all(firstBatchJobs.map((id) => queue.getJobState(id)));
    assert.ok(
      restored.every((s) => s === 'prioritized' || s === 'waiting'),
      `the sent batch's jobs are back, to run: ${restored.join(', ')}`,
    );
    await queue.resume();

    await waitFor('the stale jobs ran again', async () => {
      const states = await Promise.all(firstBatchJobs.map((id) => queue.getJobState(id)));
      return states.every((s) => s === 'unknown'); // completed and dropped
    });
    await waitFor('the lost batch re-added and sent', () => allSent(queuedAfterSnapshot), {
      timeoutMs: 20_000,
    });

    const receipts = receiptsById(h.sandbox);
    const all = [...sentAfterSnapshot, ...queuedAfterSnapshot];
    for (const row of await statuses(all)) {
      assert.equal(receipts.get(row.id)?.accepted, 1, `delivery ${row.id} received exactly once`);
      assert.equal(row.sent_events, 1, `delivery ${row.id} has one \`sent\` event`);
    }
  });
});
