import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { FANOUT_QUEUE } from '../delivery/fanout.constants';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

const AUDIENCE = 2500; // three fan-out chunks of 1,000

describe('cancel during a large topic fan-out', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'fanout-cancel', env: { CLARION_WEBHOOK_TIMEOUT_MS: '30000' } });
    app = await h.createApp();
    // Set-up only: 2,500 subscribers written straight to PostgreSQL (2,500 PUTs would only slow the test).
    await sql(
      h.db.url,
      `WITH u AS (
         INSERT INTO users (id, app_id, external_id) SELECT gen_random_uuid(), $1, 'big-' || i FROM generate_series(1, $2::int) i RETURNING id, external_id),
       c AS (INSERT INTO contacts (id, app_id, user_id, kind, address) SELECT gen_random_uuid(), $1, id, 'url', $3 || external_id FROM u)
       INSERT INTO topic_subscriptions (app_id, topic, user_id) SELECT $1, 'big', id FROM u`,
      [app.id, AUDIENCE, `${h.sandbox.url}/webhook/`],
    );
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
      await waitFor(
        'fan-out job finished',
        async () => ['completed', 'unknown'].includes(await fanout.getJobState(id)),
        { timeoutMs: 30_000 },
      );
    } finally {
      await fanout.close();
      redis.disconnect();
    }
    const settled = await waitFor(
      'every delivery settled',
      async () => {
        const rows = await sql<{ id: string; status: string }>(
          h.db.url,
          'SELECT id, status FROM deliveries WHERE notification_id = $1',
          [id],
        );
        return rows.every((r) => r.status === 'sent' || r.status === 'canceled') ? rows : undefined;
      },
      { timeoutMs: 30_000 },
    );
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
