import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PRIORITY_RANK } from '@clarion/plugin-sdk';
import { testRedis, waitFor } from '@clarion/testkit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { loadEnv } from '../config/env';
import { FANOUT_QUEUE } from '../fanout/fanout.constants';
import { startServer } from '../server';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

/**
 * The API role fills the queue while no worker runs; then one worker with concurrency 1 starts,
 * and the receiver sees the order the worker took the jobs in.
 */
describe('priority: high before normal before low', () => {
  let h: Harness;
  let app: TestApp;
  let worker: NestFastifyApplication | undefined;
  before(async () => {
    h = await startHarness({ role: 'api', label: 'prio', env: { CLARION_WEBHOOK_TIMEOUT_MS: '30000' } });
    app = await h.createApp();
    assert.equal(
      (
        await app.call('/v1/users/p-user', {
          method: 'PUT',
          body: { webhookUrl: `${h.sandbox.url}/webhook/p-user` },
        })
      ).status,
      201,
    );
    assert.ok((await app.call('/v1/users/p-user/topics/prio-topic', { method: 'PUT' })).ok);
  });
  after(async () => {
    await worker?.close();
    await h.close();
  });

  test('a queue filled with low, then normal, then high deliveries is worked high, normal, low', async () => {
    const order = ['low', 'low', 'low', 'normal', 'normal', 'normal', 'high', 'high', 'high'] as const;
    const ids: string[] = [];
    for (const [i, priority] of order.entries()) {
      const res = await app.call('/v1/notifications', {
        body: { to: { userId: 'p-user' }, priority, content: { webhook: { json: { i, priority } } } },
      });
      assert.equal(res.status, 202);
      ids.push((await json<{ id: string }>(res)).id);
    }
    await waitFor('all queued', async () => {
      const [r] = await sql<{ n: string }>(
        h.db.url,
        `SELECT count(*) AS n FROM deliveries WHERE notification_id = ANY($1::uuid[]) AND status = 'queued'`,
        [ids],
      );
      return Number(r!.n) === order.length;
    });

    const env = loadEnv(
      h.childEnv({
        CLARION_ROLE: 'worker',
        CLARION_WORKER_CONCURRENCY: '1',
        CLARION_MIGRATE_ON_START: 'false',
      }),
    );
    worker = await startServer({ env, processEnv: h.childEnv() });
    const got = await h.sandbox.recorder.waitFor(
      order.length,
      { provider: 'webhook', to: 'p-user', outcome: 'accepted' },
      20_000,
    );
    const seen = got.map((r) => (r.payload as { content: { priority: string } }).content.priority);
    assert.deepEqual(seen, ['high', 'high', 'high', 'normal', 'normal', 'normal', 'low', 'low', 'low']);
  });

  test("fan-out jobs carry their notification's priority too", async () => {
    const ids: Record<string, string> = {};
    for (const priority of ['low', 'high'] as const) {
      const res = await app.call('/v1/notifications', {
        body: {
          to: { topic: 'prio-topic' },
          priority,
          sendAt: new Date(Date.now() + 60_000).toISOString(),
          content: { webhook: { json: {} } },
        },
      });
      ids[priority] = (await json<{ id: string }>(res)).id;
    }
    const redis = testRedis();
    const fanout = new Queue(FANOUT_QUEUE, { connection: redis, prefix: h.prefix });
    try {
      for (const priority of ['low', 'high'] as const) {
        const job = await waitFor('fan-out job', () => fanout.getJob(ids[priority]!));
        assert.equal(job.opts.priority, PRIORITY_RANK[priority]);
      }
    } finally {
      await fanout.close();
      redis.disconnect();
    }
  });
});
