import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type DeliveryJob, deliveryJobOptions, pluginQueueName } from '@clarion/plugin-sdk';
import { testRedis, waitFor, waitForJobCompleted } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { jobSql } from '../deliveries/store/stored-job';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface WebhookPayload {
  id: string;
  notificationId: string;
}

type Answer = { status: number; body: { id: string; duplicate?: boolean } };

/**
 * POSTs all bodies at once over node:http with a bounded socket pool: at most 256 connections,
 * below the server's listen backlog (511), which a loaded machine otherwise overflows with
 * connection resets. The server still sees hundreds of repeats racing each other.
 */
function postAll(url: string, auth: string, bodies: unknown[]): Promise<Answer[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const one = (body: unknown) =>
    new Promise<Answer>((resolve, reject) => {
      const data = JSON.stringify(body);
      const headers = {
        authorization: auth,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(data),
      };
      const req = request(`${url}/v1/notifications`, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Answer['body'] }),
        );
      });
      req.on('error', reject);
      req.end(data);
    });
  return Promise.all(bodies.map(one)).finally(() => agent.destroy());
}

describe('eventId de-duplication through the public API', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    // A short purge interval so the test sees the purger run on its own schedule. A long receiver
    // timeout: on this loaded machine the in-process receiver sometimes answers after the default
    // 2 s, the plugin then retries a message the receiver did record (at-least-once on timeouts,
    // which only the receiver can dedupe, by delivery id) — not what this test is about.
    h = await startHarness({
      label: 'dedup',
      env: {
        CLARION_DEDUP_PURGE_INTERVAL_MS: '300',
        CLARION_DEDUP_PURGE_BATCH: '2',
        CLARION_WEBHOOK_TIMEOUT_MS: '30000',
      },
    });
    app = await h.createApp();
    for (const user of ['dd-alice', 'dd-bob']) {
      const put = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(put.status, 201);
    }
  });
  after(() => h.close());

  const received = (to: string) =>
    h.sandbox.recorder
      .list({ provider: 'webhook', to, outcome: 'accepted' })
      .map((r) => r.payload as WebhookPayload);

  test('1,000 concurrent requests carrying 100 eventIds make 100 notifications, each delivery received exactly once', async () => {
    const body = (k: number) => ({
      to: { userIds: ['dd-alice', 'dd-bob'] },
      eventId: `burst-${k}`,
      content: { webhook: { json: { k } } },
    });
    const parsed = await postAll(
      h.url,
      basic(app.appKey, app.appSecret),
      Array.from({ length: 1000 }, (_, i) => body(i % 100)),
    );
    assert.deepEqual([...new Set(parsed.map((p) => p.status))].sort(), [200, 202]);
    assert.equal(parsed.filter((p) => p.status === 202).length, 100, 'one 202 per eventId');
    assert.equal(parsed.filter((p) => p.status === 200 && p.body.duplicate === true).length, 900);
    // Every answer for an eventId names the same notification.
    const idOf = new Map<number, Set<string>>();
    for (const [i, p] of parsed.entries()) idOf.set(i % 100, (idOf.get(i % 100) ?? new Set()).add(p.body.id));
    for (const [k, ids] of idOf) assert.equal(ids.size, 1, `eventId burst-${k}`);
    const ids = new Set([...idOf.values()].map((s) => [...s][0]!));

    const [row] = await sql<{ n: string; d: string }>(
      h.db.url,
      `SELECT (SELECT count(*) FROM notifications WHERE event_id LIKE 'burst-%') AS n,
              (SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.event_id LIKE 'burst-%') AS d`,
    );
    assert.equal(Number(row!.n), 100);
    assert.equal(Number(row!.d), 200, '2 recipients × 100 notifications');

    await waitFor(
      '200 deliveries at the receiver',
      () => received('dd-alice').length + received('dd-bob').length >= 200,
    );
    await new Promise((r) => setTimeout(r, 500)); // anything extra would arrive now
    for (const user of ['dd-alice', 'dd-bob']) {
      const got = received(user).filter((p) => ids.has(p.notificationId));
      assert.equal(got.length, 100, `${user} got one message per eventId`);
      assert.equal(new Set(got.map((p) => p.notificationId)).size, 100);
      assert.equal(new Set(got.map((p) => p.id)).size, 100, 'no delivery twice');
    }

    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const hits = Number(/^clarion_notifications_deduplicated_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(hits >= 900, `dedup hits counted: ${hits}`);
  });

  test('a claim older than the dedup window no longer blocks: the repeat is a new notification and is sent', async () => {
    const body = {
      to: { userId: 'dd-alice' },
      eventId: 'window-1',
      content: { webhook: { json: { w: 1 } } },
    };
    const first = await app.call('/v1/notifications', { body });
    assert.equal(first.status, 202);
    const { id: firstId } = await json<{ id: string }>(first);
    assert.equal((await app.call('/v1/notifications', { body })).status, 200, 'inside the window: duplicate');
    // Age the claim past the window (168 h default) without waiting a week.
    await sql(
      h.db.url,
      `UPDATE event_ids SET created_at = now() - interval '169 hours' WHERE event_id = 'window-1'`,
    );
    const later = await app.call('/v1/notifications', {
      body: { ...body, content: { webhook: { json: { w: 2 } } } },
    });
    assert.equal(later.status, 202, 'outside the window: accepted, even with another body');
    const { id: laterId } = await json<{ id: string }>(later);
    assert.notEqual(laterId, firstId);
    await waitFor('the new one is sent', () =>
      received('dd-alice').some((p) => p.notificationId === laterId),
    );
    const again = await app.call('/v1/notifications', {
      body: { ...body, content: { webhook: { json: { w: 2 } } } },
    });
    assert.equal(again.status, 200);
    assert.equal((await json<{ id: string }>(again)).id, laterId, 'the new claim holds a full window again');
  });

  test('expired claims are purged in batches on a schedule; fresh ones stay', async () => {
    const [row] = await sql<{ app_id: string }>(h.db.url, 'SELECT id AS app_id FROM apps LIMIT 1');
    await sql(
      h.db.url,
      `INSERT INTO event_ids (app_id, event_id, notification_id, body_hash, created_at)
       SELECT $1, 'old-' || i, gen_random_uuid(), 'x', now() - interval '200 hours' FROM generate_series(1, 7) i`,
      [row!.app_id],
    );
    await waitFor('old claims purged', async () => {
      const [c] = await sql<{ n: string }>(
        h.db.url,
        `SELECT count(*) AS n FROM event_ids WHERE event_id LIKE 'old-%'`,
      );
      return Number(c!.n) === 0;
    });
    const [fresh] = await sql<{ n: string }>(
      h.db.url,
      `SELECT count(*) AS n FROM event_ids WHERE event_id LIKE 'burst-%'`,
    );
    assert.equal(Number(fresh!.n), 100);
  });

  test('a repeat with a different body is a 409 that changes nothing', async () => {
    const body = {
      to: { userId: 'dd-bob' },
      eventId: 'conflict-1',
      content: { webhook: { json: { c: 1 } } },
    };
    assert.equal((await app.call('/v1/notifications', { body })).status, 202);
    const before = await countRows(h.db.url, ['notifications', 'deliveries', 'event_ids']);
    const res = await app.call('/v1/notifications', {
      body: { ...body, content: { webhook: { json: { c: 2 } } } },
    });
    assert.equal(res.status, 409);
    assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'event_id_conflict');
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries', 'event_ids']), before);
  });

  test('a delivery job added again after it was sent (retry, sweeper, lost ack) does not reach the receiver twice', async () => {
    // The receiver answers slowly once, so the job can be read while the delivery is still queued:
    // once it is sent, PostgreSQL keeps no job to enqueue again. A receiver of its own: on dd-bob
    // the slow answer could go to the delivery the test before did not wait for.
    const put = await app.call('/v1/users/dd-once', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/dd-once` },
    });
    assert.equal(put.status, 201);
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'dd-once', delayMs: 500, times: 1 });
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'dd-once' }, content: { webhook: { json: { once: true } } } },
    });
    const { id } = await json<{ id: string }>(res);
    const [d] = await sql<{ id: string; job: DeliveryJob }>(
      h.db.url,
      `SELECT d.id, ${jobSql('d')} AS job FROM deliveries d WHERE d.notification_id = $1`,
      [id],
    );
    assert.ok(d?.job, 'a delivery on its way keeps its job');
    const sent = await waitFor('sent', async () => {
      const [s] = await sql<{ status: string; job: DeliveryJob | null }>(
        h.db.url,
        'SELECT status, job FROM deliveries WHERE id = $1',
        [d!.id],
      );
      return s?.status === 'sent' ? s : undefined;
    });
    assert.equal(sent.job, null, 'a sent delivery keeps no rendered job');
    const redis = testRedis();
    const queue = new Queue(pluginQueueName('webhook'), { connection: redis, prefix: h.prefix });
    try {
      // A completed delivery job is dropped at once, so the same id can run again, as after a
      // crash or a late re-add by the sweeper.
      assert.equal(await queue.getJobState(d!.id), 'unknown', 'the completed job is gone from Redis');
      await queue.add('deliver', d!.job, deliveryJobOptions(d!.job, undefined));
      await waitForJobCompleted(queue, d!.id);
    } finally {
      await queue.close();
      redis.disconnect();
    }
    assert.equal(received('dd-once').filter((p) => p.notificationId === id).length, 1, 'received once');
    const [after] = await sql<{ status: string; n: string }>(
      h.db.url,
      // A `sent` is a history row, or the row's own `sent_event` (deliveries/store/record-outcomes.ts).
      `SELECT d.status, (SELECT count(*) FROM delivery_events e WHERE e.delivery_id = d.id AND e.status = 'sent')
                        + (d.sent_event IS NOT NULL)::int AS n FROM deliveries d WHERE d.id = $1`,
      [d!.id],
    );
    assert.equal(after!.status, 'sent');
    assert.equal(Number(after!.n), 1, 'the re-run found it sent and recorded nothing new');
  });
});
