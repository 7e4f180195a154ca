import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { seedTopicAudience, sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { FANOUT_QUEUE } from './fanout.constants';

const AUDIENCE = 2500; // three fan-out chunks of 1,000

describe('cancel during a large topic fan-out', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'fanout-cancel', env: { CLARION_WEBHOOK_TIMEOUT_MS: '30000' } });
    app = await h.createApp();
    await seedTopicAudience(h.db.url, {
      appId: app.id,
      topic: 'big',
      users: AUDIENCE,
      prefix: 'big-',
      webhookBase: `${h.sandbox.url}/webhook/`,
    });
  });
  after(() => h.close());

  test('expansion stops; every delivery ends either received once and `sent`, or never received and `canceled`', async (t) => {
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'big' }, content: { webhook: { json: { big: true } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    await waitFor(
      'expansion started',
      async () =>
        Number(
          (
            await sql<{ n: string }>(
              h.db.url,
              'SELECT count(*) AS n FROM deliveries WHERE notification_id = $1',
              [id],
            )
          )[0]?.n,
        ) > 0,
    );
    const canceled = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(canceled.status, 200);
    const answer = await json<{ canceled: number; inFlight: number }>(canceled);

    const redis = testRedis();
    const fanout = new Queue(FANOUT_QUEUE, { connection: redis, prefix: h.prefix });
    try {
      await waitFor('fan-out job finished', async () =>
        ['completed', 'unknown'].includes(await fanout.getJobState(id)),
      );
    } finally {
      await fanout.close();
      redis.disconnect();
    }
    const settled = await waitFor('every delivery settled', async () => {
      const rows = await sql<{ id: string; status: string }>(
        h.db.url,
        'SELECT id, status FROM deliveries WHERE notification_id = $1',
        [id],
      );
      return rows.every((r) => r.status === 'sent' || r.status === 'canceled') ? rows : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    const received = h.sandbox.recorder
      .list({ provider: 'webhook', outcome: 'accepted' })
      .map((r) => r.payload as { id: string; notificationId: string })
      .filter((p) => p.notificationId === id);
    const sent = new Set(settled.filter((r) => r.status === 'sent').map((r) => r.id));
    assert.equal(received.length, sent.size, 'received exactly the deliveries marked sent');
    assert.equal(new Set(received.map((p) => p.id)).size, received.length, 'none twice');
    for (const p of received) assert.ok(sent.has(p.id), `received ${p.id} is marked sent`);
    const [n] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM notifications WHERE id = $1', [
      id,
    ]);
    assert.equal(n?.status, 'canceled');
    t.diagnostic(
      `expanded ${settled.length}/${AUDIENCE}, sent ${sent.size}, canceled ${settled.length - sent.size}; cancel answered canceled=${answer.canceled} inFlight=${answer.inFlight}`,
    );
  });
});
