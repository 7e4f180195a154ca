import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DeliveryJob, deliveryJobOptions, pluginQueueName } from '@clarion/plugin-sdk';
import { testRedis, waitFor, waitForJobCompleted } from '@clarion/testkit';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DateTime } from 'luxon';
import { jobSql } from '../deliveries/store/stored-job';
import { FANOUT_QUEUE } from '../fanout/fanout.constants';
import { countRows, sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  id: string;
  userId: string;
  status: string;
  reason: string | null;
  heldUntil: string | null;
  events: { status: string; detail: Record<string, unknown> | null }[];
}
interface NotificationView {
  id: string;
  status: string;
  sendAt: string | null;
  canceledAt: string | null;
  summary: Record<string, number>;
  deliveries: Delivery[];
}
interface Payload {
  id: string;
  notificationId: string;
}
interface ErrorBody {
  error: { code: string; message: string };
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduling, cancellation, ttl: through the public API to the sandbox', () => {
  let h: Harness;
  let app: TestApp;
  let redis: Redis;
  let webhookQueue: Queue;
  let fanoutQueue: Queue;
  const users = ['s-alice', 's-bob', 's-slow', 's-down', 's-race', 's-quiet'];

  before(async () => {
    // Long receiver timeout: a timed-out send that the receiver did record is retried (at-least-once),
    // which would blur the exactly-once assertions of the cancel race below on a loaded machine.
    h = await startHarness({
      label: 'sched',
      env: { CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500', CLARION_WEBHOOK_TIMEOUT_MS: '30000' },
    });
    app = await h.createApp();
    for (const u of users) {
      assert.equal(
        (
          await app.call(`/v1/users/${u}`, {
            method: 'PUT',
            body: { webhookUrl: `${h.sandbox.url}/webhook/${u}` },
          })
        ).status,
        201,
      );
    }
    for (const u of ['s-alice', 's-bob'])
      assert.ok((await app.call(`/v1/users/${u}/topics/sched-news`, { method: 'PUT' })).ok);
    redis = testRedis();
    webhookQueue = new Queue(pluginQueueName('webhook'), { connection: redis, prefix: h.prefix });
    fanoutQueue = new Queue(FANOUT_QUEUE, { connection: redis, prefix: h.prefix });
  });
  after(async () => {
    await webhookQueue.close();
    await fanoutQueue.close();
    redis.disconnect();
    await h.close();
  });

  const view = async (id: string) => json<NotificationView>(await app.call(`/v1/notifications/${id}`));
  const post = async (body: Record<string, unknown>) => {
    const res = await app.call('/v1/notifications', { body });
    assert.equal(res.status, 202, await res.clone().text());
    return json<{ id: string; status: string }>(res);
  };
  const cancel = (id: string, body?: unknown) =>
    app.call(`/v1/notifications/${id}/cancel`, { method: 'POST', ...(body !== undefined ? { body } : {}) });
  const receivedFor = (id: string) =>
    h.sandbox.recorder
      .list({ provider: 'webhook', outcome: 'accepted' })
      .filter((r) => (r.payload as Payload).notificationId === id);
  const metric = async (pattern: RegExp) =>
    Number(pattern.exec(await (await fetch(`${h.url}/metrics`)).text())?.[1] ?? NaN);

  test('sendAt a few seconds ahead: `scheduled` until due, then the delivery goes out and the notification is `accepted`', async () => {
    const sendAt = inSeconds(3);
    const { id, status } = await post({
      to: { userId: 's-alice' },
      sendAt,
      content: { webhook: { json: { when: 'later' } } },
    });
    assert.equal(status, 'scheduled');
    const early = await waitFor('delivery queued with its delay', async () => {
      const v = await view(id);
      return v.deliveries[0]?.status === 'queued' ? v : undefined;
    });
    assert.equal(early.status, 'scheduled');
    assert.equal(Date.parse(early.sendAt!), Date.parse(sendAt));
    assert.ok((await metric(/^clarion_scheduled_notifications\{[^}]*\} (\d+)/m)) >= 1, 'the gauge counts it');

    await waitFor('received after sendAt', () => receivedFor(id).length === 1);
    const [rec] = receivedFor(id);
    // Nothing before sendAt, read from the receipt's own time: a fixed sleep then "nothing yet"
    // assumed the steps above took under 2 s, which a loaded machine does not promise.
    assert.ok(
      Date.parse(rec!.receivedAt) >= Date.parse(sendAt) - 100,
      `received ${rec!.receivedAt}, due ${sendAt}`,
    );
    const done = await waitFor('sent', async () => {
      const v = await view(id);
      return v.deliveries[0]?.status === 'sent' ? v : undefined;
    });
    assert.equal(done.status, 'accepted');
    await waitFor('stored as accepted by the scheduler', async () => {
      const [n] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM notifications WHERE id = $1', [
        id,
      ]);
      return n?.status === 'accepted';
    });
  });

  test('a scheduled delivery held by quiet hours past its sendAt, whose job Redis lost: re-added when due, it still waits for the quiet hours to end', async () => {
    const now = DateTime.utc();
    const hhmm = (d: DateTime) => d.toFormat('HH:mm');
    assert.equal(
      (
        await app.call('/v1/users/s-quiet/preferences', {
          method: 'PUT',
          body: {
            quietHours: { start: hhmm(now.minus({ minutes: 30 })), end: hhmm(now.plus({ minutes: 120 })) },
          },
        })
      ).status,
      200,
    );
    const { id } = await post({
      to: { userId: 's-quiet' },
      sendAt: inSeconds(5), // time to take its job away before it is due
      content: { webhook: { json: { quiet: true } } },
    });
    const held = await waitFor('held and queued', async () => {
      const d = (await view(id)).deliveries[0];
      return d?.status === 'queued' && d.heldUntil ? d : undefined;
    });
    assert.equal(held.reason, 'quiet_hours');
    await webhookQueue.remove(held.id); // Redis lost it
    await waitFor('due', async () => (await view(id)).status === 'accepted');
    const job = await waitFor('re-added', () => webhookQueue.getJob(held.id));
    assert.equal(await job.getState(), 'delayed', 'not sent during the quiet hours');
    assert.ok(
      Math.abs(job.timestamp + job.delay - Date.parse(held.heldUntil!)) < 5_000,
      'due when the quiet hours end',
    );
    assert.equal(receivedFor(id).length, 0);
  });

  test('a scheduled topic fan-out is `scheduled` with no deliveries until due, then reaches every subscriber', async () => {
    const { id, status } = await post({
      to: { topic: 'sched-news' },
      sendAt: inSeconds(3),
      content: { webhook: { json: { topic: true } } },
    });
    assert.equal(status, 'scheduled');
    const early = await view(id);
    assert.equal(early.status, 'scheduled');
    assert.equal(early.deliveries.length, 0);
    assert.equal(await fanoutQueue.getJobState(id), 'delayed');
    await waitFor('both subscribers received it', () => receivedFor(id).length === 2);
    // The fan-out stores `accepted` only after its last, empty topic page, while the deliveries it
    // queued before that page are already being sent: both can be `sent` with the notification
    // still `fanout` for a moment (a loaded machine widens it). Wait for both, as fanout/ tests do.
    const done = await waitFor('both sent and the fan-out finished', async () => {
      const v = await view(id);
      return v.summary.sent === 2 && v.status === 'accepted' ? v : undefined;
    });
    assert.deepEqual(done.deliveries.map((d) => d.userId).sort(), ['s-alice', 's-bob']);
  });

  test('cancel a scheduled notification: its job leaves the queue, it and its delivery are `canceled` with an event, nothing is sent', async () => {
    const before = await metric(/^clarion_notifications_canceled_total\{[^}]*\} (\d+)/m);
    const { id } = await post({
      to: { userIds: ['s-alice', 's-bob'] },
      sendAt: inSeconds(60),
      content: { webhook: { json: { never: true } } },
    });
    const queued = await waitFor('queued', async () => {
      const v = await view(id);
      return v.deliveries.every((d) => d.status === 'queued') ? v : undefined;
    });
    for (const d of queued.deliveries) assert.equal(await webhookQueue.getJobState(d.id), 'delayed');

    const res = await cancel(id);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { id, status: 'canceled', canceled: 2, inFlight: 0, steps: 0 });
    const v = await view(id);
    assert.equal(v.status, 'canceled');
    assert.ok(v.canceledAt);
    for (const d of v.deliveries) {
      assert.equal(d.status, 'canceled');
      assert.equal(d.reason, 'canceled');
      assert.deepEqual(
        d.events.map((e) => e.status),
        ['pending', 'queued', 'canceled'],
      );
      await waitFor(
        'job removed (after the answer)',
        async () => (await webhookQueue.getJob(d.id)) === undefined,
      );
    }
    const jobs = await sql<{ job: unknown }>(
      h.db.url,
      'SELECT job FROM deliveries WHERE notification_id = $1',
      [id],
    );
    assert.deepEqual(
      jobs.map((r) => r.job),
      [null, null],
      'a canceled delivery keeps no rendered job',
    );
    assert.equal(
      await metric(/^clarion_notifications_canceled_total\{[^}]*\} (\d+)/m),
      (Number.isNaN(before) ? 0 : before) + 1,
    );
    assert.ok(
      (await metric(
        /^clarion_deliveries_total\{channel="webhook",plugin="webhook",status="canceled",reason="canceled"[^}]*\} (\d+)/m,
      )) >= 2,
    );

    const again = await cancel(id);
    assert.equal(again.status, 409);
    assert.equal((await json<ErrorBody>(again)).error.code, 'already_canceled');
  });

  test('cancel a scheduled topic fan-out: it is never expanded and nothing is sent', async () => {
    const sendAt = inSeconds(2);
    const { id } = await post({
      to: { topic: 'sched-news' },
      sendAt,
      content: { webhook: { json: { canceledTopic: true } } },
    });
    const res = await cancel(id);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { id, status: 'canceled', canceled: 0, inFlight: 0, steps: 0 });
    await waitFor(
      'fan-out job removed (after the answer)',
      async () => (await fanoutQueue.getJob(id)) === undefined,
    );
    await sleep(Date.parse(sendAt) - Date.now() + 1500);
    const v = await view(id);
    assert.equal(v.status, 'canceled');
    assert.equal(v.deliveries.length, 0);
    assert.equal(receivedFor(id).length, 0);
  });

  test('a job that runs after the cancel (not removable: picked up at that instant, or re-added) does not send', async () => {
    const { id } = await post({
      to: { userId: 's-race' },
      sendAt: inSeconds(60),
      content: { webhook: { json: { race: 1 } } },
    });
    const [d] = await waitFor('queued', async () => {
      const r = await sql<{ id: string; job: DeliveryJob; status: string }>(
        h.db.url,
        `SELECT d.id, ${jobSql('d')} AS job, d.status FROM deliveries d WHERE d.notification_id = $1`,
        [id],
      );
      return r[0]?.status === 'queued' ? r : undefined;
    });
    assert.equal((await cancel(id)).status, 200);
    await webhookQueue.add('deliver', d!.job, deliveryJobOptions(d!.job, undefined)); // due now
    await waitForJobCompleted(webhookQueue, d!.id);
    // The worker's own "canceled" report changes nothing (the delivery is canceled already, and the
    // history logs only steps that applied); what matters is that the late job sent nothing.
    const v = await view(id);
    assert.equal(v.deliveries[0]!.status, 'canceled');
    assert.equal(receivedFor(id).length, 0);
    assert.equal(
      h.sandbox.recorder.list({ provider: 'webhook', to: 's-race' }).length,
      0,
      'the receiver saw no request at all',
    );
  });

  test('canceling a notification due in 30 days: its cancel mark outlives the due time, so a job that escaped removal never sends', async () => {
    const sendAt = new Date(Date.now() + 30 * 86_400_000);
    const { id } = await post({
      to: { userId: 's-race' },
      sendAt: sendAt.toISOString(),
      content: { webhook: { json: { farAhead: 1 } } },
    });
    assert.equal((await cancel(id)).status, 200);
    const ttl = await redis.ttl(`${h.prefix}:canceled:${id}`);
    const mustOutlive = Math.ceil((sendAt.getTime() - Date.now()) / 1000);
    assert.ok(ttl > mustOutlive, `the mark expires in ${ttl} s, before the send time in ${mustOutlive} s`);
  });

  test('a delivery in flight at cancel time finishes and stays `sent`; the answer says it was in flight', async () => {
    h.sandbox.behaviors.add({ provider: 'webhook', to: 's-slow', delayMs: 1200, times: 1 });
    const { id } = await post({ to: { userId: 's-slow' }, content: { webhook: { json: { slow: true } } } });
    const [d] = await waitFor('delivery row', () =>
      sql<{ id: string }>(h.db.url, 'SELECT id FROM deliveries WHERE notification_id = $1', [id]).then((r) =>
        r.length ? r : undefined,
      ),
    );
    await waitFor(
      'the worker started it',
      async () => (await redis.exists(`${h.prefix}:inflight:${d!.id}`)) === 1,
    );
    const res = await cancel(id);
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { id, status: 'canceled', canceled: 0, inFlight: 1, steps: 0 });
    const v = await waitFor('sent', async () => {
      const n = await view(id);
      return n.deliveries[0]?.status === 'sent' ? n : undefined;
    });
    assert.equal(v.status, 'canceled');
    assert.equal(receivedFor(id).length, 1);
  });

  test('cancels racing the due time: every delivery is either received once and `sent`, or never received and `canceled`', async () => {
    const sendAt = inSeconds(1.5);
    const ids = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post({ to: { userId: 's-race' }, sendAt, content: { webhook: { json: { batch: i } } } }).then(
          (r) => r.id,
        ),
      ),
    );
    await sleep(Math.max(0, Date.parse(sendAt) - Date.now() - 30));
    const answers = await Promise.all(
      ids.map(async (id, i) => {
        await sleep(i * 3); // spread across the due instant
        const res = await cancel(id);
        return {
          status: res.status,
          body: await json<{ canceled?: number; inFlight?: number; error?: { code: string } }>(res),
        };
      }),
    );
    await sleep(1500); // let the jobs that did start finish
    for (const [i, id] of ids.entries()) {
      const v = await waitFor('settled', async () => {
        const n = await view(id);
        return ['sent', 'canceled'].includes(n.deliveries[0]?.status ?? '') ? n : undefined;
      });
      const got = receivedFor(id).length;
      const a = answers[i]!;
      if (v.deliveries[0]!.status === 'canceled') {
        assert.equal(got, 0, `notification ${i}: canceled but received`);
        assert.equal(a.status, 200);
      } else {
        assert.equal(got, 1, `notification ${i}: sent ${got} times`);
        assert.ok(
          a.status === 409 || a.body.inFlight === 1,
          `notification ${i}: the answer (${a.status} ${JSON.stringify(a.body)}) admits the send`,
        );
      }
    }
  });

  test('canceling a notification already sent is a 409 that changes nothing', async () => {
    const { id } = await post({ to: { userId: 's-bob' }, content: { webhook: { json: { done: true } } } });
    await waitFor('sent', async () => (await view(id)).deliveries[0]?.status === 'sent');
    const before = await countRows(h.db.url, ['notifications', 'deliveries', 'delivery_events']);
    const res = await cancel(id);
    assert.equal(res.status, 409);
    const body = await json<ErrorBody>(res);
    assert.equal(body.error.code, 'already_sent');
    assert.match(body.error.message, /nothing left to send/);
    assert.equal((await view(id)).status, 'accepted');
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries', 'delivery_events']), before);
  });

  test("cancel: unknown id, malformed id and another app's id are 404; a body with fields is a 400; nothing changes", async () => {
    const { id } = await post({
      to: { userId: 's-alice' },
      sendAt: inSeconds(60),
      content: { webhook: { json: {} } },
    });
    // The 202 comes once the rows are committed; the delivery is put on its queue (and its `queued`
    // step written) just after. Count once that has settled, so only the calls below can change it.
    await waitFor('the scheduled delivery queued', async () => (await view(id)).summary.queued === 1);
    const before = await countRows(h.db.url, ['notifications', 'deliveries', 'delivery_events']);
    assert.equal((await cancel('0190d7c2-1111-7000-8000-000000000000')).status, 404);
    assert.equal((await cancel('not-an-id')).status, 404);
    const other = await h.createApp();
    const foreign = await other.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(foreign.status, 404);
    assert.equal((await json<ErrorBody>(foreign)).error.code, 'not_found');
    const bad = await cancel(id, { reason: 'because' });
    assert.equal(bad.status, 400);
    assert.equal((await json<ErrorBody>(bad)).error.code, 'invalid_request');
    assert.equal((await cancel(id, 'not json{')).status, 400);
    const unauth = await fetch(`${h.url}/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(unauth.status, 401);
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries', 'delivery_events']), before);
    assert.equal((await view(id)).status, 'scheduled');
    assert.equal((await cancel(id, {})).status, 200, 'an empty object is fine');
    const doc = await json<{ paths: Record<string, unknown> }>(await fetch(`${h.url}/docs-json`));
    assert.ok(doc.paths['/v1/notifications/{id}/cancel'], 'documented in OpenAPI');
  });

  test('a bad sendAt is a 400 and stores nothing; a past sendAt sends at once', async () => {
    const before = await countRows(h.db.url, ['notifications', 'deliveries']);
    const bad = await app.call('/v1/notifications', {
      body: { to: { userId: 's-alice' }, sendAt: 'tomorrow', content: { webhook: { json: {} } } },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries']), before);
    const { id, status } = await post({
      to: { userId: 's-alice' },
      sendAt: new Date(Date.now() - 60_000).toISOString(),
      content: { webhook: { json: {} } },
    });
    assert.equal(status, 'accepted');
    await waitFor('sent', () => receivedFor(id).length === 1);
  });

  test('ttl: a delivery that cannot go out before it expires (receiver down) ends `expired` with the reason, counted in metrics', async () => {
    h.sandbox.behaviors.add({ provider: 'webhook', to: 's-down', fail: '503' });
    try {
      const { id } = await post({
        to: { userId: 's-down' },
        ttl: 2,
        content: { webhook: { json: { ttl: true } } },
      });
      const v = await waitFor('expired', async () => {
        const n = await view(id);
        return n.deliveries[0]?.status === 'expired' ? n : undefined;
      });
      const d = v.deliveries[0]!;
      assert.equal(d.reason, 'expired');
      const statuses = d.events.map((e) => e.status);
      assert.equal(statuses[0], 'pending');
      assert.ok(statuses.includes('retrying'), 'it was tried while the receiver was down');
      assert.equal(statuses.at(-1), 'expired');
      assert.equal(v.summary.expired, 1);
      assert.equal(receivedFor(id).length, 0);
      assert.ok(
        h.sandbox.recorder.list({ provider: 'webhook', to: 's-down', outcome: 'http_503' }).length >= 1,
      );
      assert.ok(
        (await metric(
          /^clarion_deliveries_total\{channel="webhook",plugin="webhook",status="expired",reason="expired"[^}]*\} (\d+)/m,
        )) >= 1,
      );
      assert.ok(
        (await metric(
          /^clarion_plugin_send_attempts_total\{plugin="webhook",channel="webhook",result="expired"[^}]*\} (\d+)/m,
        )) >= 1,
      );
    } finally {
      h.sandbox.behaviors.clear('webhook');
    }
  });
});
