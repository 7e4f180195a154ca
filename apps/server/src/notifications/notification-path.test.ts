import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { countRows } from '../testing/db';
import { type Harness, json, startHarness, type TestApp, WEBHOOK_SECRET } from '../testing/harness';

interface Delivery {
  id: string;
  userId: string;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  providerMessageId: string | null;
  events: { status: string }[];
}
interface NotificationView {
  id: string;
  status: string;
  summary: Record<string, number>;
  deliveries: Delivery[];
}

describe('the path of a notification, through the public API to the sandbox and back', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'path' });
    app = await h.createApp();
    const put = await app.call('/v1/users/alice', {
      method: 'PUT',
      body: { locale: 'en', webhookUrl: `${h.sandbox.url}/webhook/alice`, attributes: { name: 'Alice' } },
    });
    assert.equal(put.status, 201);
  });
  after(() => h.close());

  const notification = async (id: string) =>
    json<NotificationView>(await app.call(`/v1/notifications/${id}`));

  /**
   * A user whose webhook receiver only the calling test sends to. A sandbox rule is taken by the
   * next request to its address, whichever delivery makes it: on alice, a delivery an earlier test
   * did not wait for (the eventId race's) could take it, and this test's own would go out at once.
   */
  const ownReceiver = async (userId: string) => {
    const put = await app.call(`/v1/users/${userId}`, {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/${userId}` },
    });
    assert.equal(put.status, 201);
  };

  test('202 with an id; the receiver gets the rendered message; the delivery ends `sent` with history', async () => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'alice' },
        content: { webhook: { json: { greeting: 'Hello {{ user.name }}, order {{ data.order }}' } } },
        data: { order: 42 },
      },
    });
    assert.equal(res.status, 202);
    const { id, deliveries } = await json<{ id: string; deliveries: number }>(res);
    assert.equal(deliveries, 1);
    const [received] = await h.sandbox.recorder.waitFor(1, { to: 'alice', outcome: 'accepted' });
    assert.deepEqual((received!.payload as { content: unknown }).content, {
      greeting: 'Hello Alice, order 42',
    });
    const view = await waitFor('delivery sent', async () => {
      const n = await notification(id);
      return n.deliveries[0]?.status === 'sent' ? n : undefined;
    });
    assert.equal(view.deliveries[0]!.plugin, 'webhook');
    assert.equal(view.deliveries[0]!.userId, 'alice');
    assert.deepEqual(
      view.deliveries[0]!.events.map((e) => e.status),
      ['pending', 'queued', 'sent'],
    );
    assert.equal(view.summary.sent, 1);
  });

  test('channels without a contact or a plugin are recorded as suppressed, with the reason', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'alice' }, content: { sms: { text: 'hi' }, webhook: { json: {} } } },
    });
    const { id } = await json<{ id: string }>(res);
    const view = await notification(id);
    const sms = view.deliveries.find((d) => d.channel === 'sms');
    assert.equal(sms?.status, 'suppressed');
    assert.equal(sms?.reason, 'no_contact');
  });

  test('the deliveries page with ?cursor= (the nextCursor of the page before); ?after= is the same', async () => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'alice' },
        content: { sms: { text: 'a' }, email: { subject: 'b', text: 'b' }, webhook: { json: {} } },
      },
    });
    const { id } = await json<{ id: string }>(res);
    const page1 = await json<NotificationView & { nextCursor: string | null }>(
      await app.call(`/v1/notifications/${id}?limit=2`),
    );
    assert.equal(page1.deliveries.length, 2);
    assert.ok(page1.nextCursor);
    for (const param of ['cursor', 'after']) {
      const page2: NotificationView = await json<NotificationView>(
        await app.call(`/v1/notifications/${id}?limit=2&${param}=${page1.nextCursor}`),
      );
      assert.equal(page2.deliveries.length, 1, param);
      assert.ok(!page1.deliveries.some((d) => d.id === page2.deliveries[0]!.id), `${param}: the next page`);
    }
    const bad = await app.call(`/v1/notifications/${id}?cursor=nope`);
    assert.equal(bad.status, 400);
  });

  test('a missing template variable is a 422 naming it, and nothing is stored', async () => {
    const before = await countRows(h.db.url, ['notifications', 'deliveries']);
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'alice' }, content: { webhook: { json: { x: 'Hi {{ data.missing }}' } } } },
    });
    assert.equal(res.status, 422);
    const body = await json<{ error: { code: string; message: string } }>(res);
    assert.equal(body.error.code, 'template_error');
    assert.match(body.error.message, /missing/);
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries']), before);
  });

  test('unknown users are counted as suppressed in the answer', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userIds: ['alice', 'nobody'] }, content: { webhook: { json: {} } } },
    });
    assert.equal(res.status, 202);
    const body = await json<{ deliveries: number; suppressed: number }>(res);
    assert.equal(body.deliveries, 1);
    assert.equal(body.suppressed, 1);
  });

  test('a user listed twice gets one delivery and counts as one recipient', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userIds: ['alice', 'alice', 'nobody'] }, content: { webhook: { json: {} } } },
    });
    assert.equal(res.status, 202);
    const { id, deliveries, suppressed } = await json<{ id: string; deliveries: number; suppressed: number }>(
      res,
    );
    assert.deepEqual([deliveries, suppressed], [1, 1]);
    const view = await json<{ recipients: number; deliveries: unknown[] }>(
      await app.call(`/v1/notifications/${id}`),
    );
    assert.deepEqual([view.recipients, view.deliveries.length], [1, 1]);
  });

  test('a repeated eventId returns the first id with 200 and sends nothing more; a different body is 409', async () => {
    const body = {
      to: { userId: 'alice' },
      eventId: 'order-1-shipped',
      content: { webhook: { json: { n: 1 } } },
    };
    const first = await app.call('/v1/notifications', { body });
    assert.equal(first.status, 202);
    const { id } = await json<{ id: string }>(first);
    const ofThis = () =>
      h.sandbox.recorder
        .list({ to: 'alice' })
        .filter((r) => (r.payload as { notificationId?: string }).notificationId === id).length;
    await waitFor('the first send', () => ofThis() === 1);
    const again = await app.call('/v1/notifications', { body });
    assert.equal(again.status, 200);
    assert.deepEqual(await json(again), { id, status: 'duplicate', duplicate: true });
    const conflict = await app.call('/v1/notifications', {
      body: { ...body, content: { webhook: { json: { n: 2 } } } },
    });
    assert.equal(conflict.status, 409);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ofThis(), 1, 'sent once');
  });

  test('concurrent repeats of one eventId make one notification', async () => {
    const body = {
      to: { userId: 'alice' },
      eventId: 'race-1',
      content: { webhook: { json: { race: true } } },
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => app.call('/v1/notifications', { body })),
    );
    const ids = new Set(await Promise.all(answers.map(async (a) => (await json<{ id: string }>(a)).id)));
    assert.equal(ids.size, 1);
    assert.equal(answers.filter((a) => a.status === 202).length, 1);
    assert.equal(answers.filter((a) => a.status === 200).length, 49);
  });

  test('a receiver error is retried, then the delivery is sent', async () => {
    await ownReceiver('retry-ray');
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'retry-ray', fail: '503', times: 1 });
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'retry-ray' }, content: { webhook: { json: { retry: true } } } },
    });
    const { id } = await json<{ id: string }>(res);
    const view = await waitFor('sent after a retry', async () => {
      const n = await notification(id);
      return n.deliveries[0]?.status === 'sent' ? n : undefined;
    });
    assert.deepEqual(
      view.deliveries[0]!.events.map((e) => e.status),
      ['pending', 'queued', 'retrying', 'sent'],
    );
  });

  test('a permanent receiver error fails the delivery with the reason', async () => {
    await ownReceiver('refused-rita');
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'refused-rita', fail: '400', times: 1 });
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'refused-rita' }, content: { webhook: { json: {} } } },
    });
    const { id } = await json<{ id: string }>(res);
    const view = await waitFor('failed', async () => {
      const n = await notification(id);
      return n.deliveries[0]?.status === 'failed' ? n : undefined;
    });
    assert.equal(view.deliveries[0]!.reason, 'permanent');
  });

  test('metrics count accepted notifications and deliveries by status', async () => {
    // Probes and scrapes are not API traffic: counted, they would drown the request rate and error ratio.
    for (const path of ['/healthz', '/readyz', '/metrics'])
      assert.equal((await fetch(`${h.url}${path}`)).status, 200);
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.doesNotMatch(
      text,
      /clarion_http_request_duration_seconds_count\{[^}]*route="\/(healthz|readyz|metrics)"/,
    );
    assert.match(text, /clarion_notifications_accepted_total\{[^}]*\} [1-9]/);
    assert.match(text, /clarion_deliveries_total\{channel="webhook",plugin="webhook",status="sent"/);
    assert.match(text, /clarion_queue_jobs\{queue="clarion.webhook",state="waiting"/);
    assert.match(text, /clarion_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/notifications"/);
    assert.ok(!text.includes(WEBHOOK_SECRET));
  });

  test('health, readiness and the OpenAPI document answer', async () => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const ready = await json<{ status: string; details: Record<string, { status: string }> }>(
      await fetch(`${h.url}/readyz`),
    );
    assert.equal(ready.status, 'ok');
    assert.equal(ready.details.plugins?.status, 'up');
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>(
      await fetch(`${h.url}/docs-json`),
    );
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/notifications']);
    assert.equal((await fetch(`${h.url}/docs`)).status, 200);
  });
});
