import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { CANCEL_PAGE } from '../scheduling/notification-canceler';
import { seedTopicAudience, sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { FANOUT_QUEUE } from './fanout.constants';

const AUDIENCE = 2500; // three fan-out chunks of 1,000
const PAGED = 3000; // more unsent deliveries at the cancel than one cancel page holds

const count = async (url: string, notificationId: string, where = 'true') =>
  Number(
    (
      await sql<{ n: string }>(
        url,
        `SELECT count(*) AS n FROM deliveries WHERE notification_id = $1 AND ${where}`,
        [notificationId],
      )
    )[0]?.n,
  );

/** The notification's deliveries once each is sent or canceled (polled). */
function everyDeliverySettled(url: string, id: string) {
  return waitFor('every delivery settled', async () => {
    const rows = await sql<{ id: string; status: string }>(
      url,
      'SELECT id, status FROM deliveries WHERE notification_id = $1',
      [id],
    );
    return rows.every((r) => r.status === 'sent' || r.status === 'canceled') ? rows : undefined;
  });
}

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
    await seedTopicAudience(h.db.url, {
      appId: app.id,
      topic: 'paged',
      users: PAGED,
      prefix: 'paged-',
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
    const settled = await everyDeliverySettled(h.db.url, id);
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

  test('a cancel pages through more unsent deliveries than one page; every one ends canceled, and no more are sent after the answer than it said were in flight', async (t) => {
    // Slow receivers (1 s each, 100 at a time): most of the audience is still unsent at the cancel.
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: 1000 });
    t.after(() => h.sandbox.behaviors.clear('webhook'));
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'paged' }, content: { webhook: { json: { paged: true } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    await waitFor('two chunks expanded', async () => (await count(h.db.url, id)) >= 2 * 1000);

    const canceled = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(canceled.status, 200);
    const answer = await json<{ canceled: number; inFlight: number }>(canceled);
    const receivedOf = () =>
      h.sandbox.recorder
        .list({ provider: 'webhook', outcome: 'accepted' })
        .map((r) => r.payload as { id: string; notificationId: string })
        .filter((p) => p.notificationId === id);
    const receivedAtAnswer = receivedOf().length;
    assert.ok(answer.canceled > CANCEL_PAGE, `canceled ${answer.canceled}: more than one page`);

    const settled = await everyDeliverySettled(h.db.url, id);
    const sent = new Set(settled.filter((r) => r.status === 'sent').map((r) => r.id));
    // The in-flight ones answer within their 1 s delay: the recorder then holds every send.
    const received = await waitFor('in-flight sends recorded', async () => {
      const now = receivedOf();
      return now.length >= sent.size ? now : undefined;
    });
    assert.equal(received.length, sent.size, 'received exactly the deliveries marked sent');
    assert.equal(new Set(received.map((p) => p.id)).size, received.length, 'none twice');
    assert.ok(
      received.length - receivedAtAnswer <= answer.inFlight,
      `${received.length - receivedAtAnswer} received after the answer, ${answer.inFlight} said in flight`,
    );
    assert.equal(
      await count(h.db.url, id, "status = 'canceled'"),
      settled.length - sent.size,
      'every unsent delivery canceled',
    );
    assert.ok(answer.canceled <= settled.length - sent.size);
    t.diagnostic(
      `expanded ${settled.length}/${PAGED}, sent ${sent.size} (${receivedAtAnswer} at the answer), canceled ${settled.length - sent.size}; answer canceled=${answer.canceled} inFlight=${answer.inFlight}`,
    );
  });
});
