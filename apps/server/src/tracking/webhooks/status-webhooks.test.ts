import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp, WEBHOOK_SECRET } from '../../testing/harness';
import { deliveryOf, send } from '../../testing/tracking-harness';
import { signStatusWebhook, verifyStatusWebhook } from './webhook-signature';

interface Posted {
  id: string;
  type: string;
  deliveryId: string;
  notificationId: string;
  userId: string;
  channel: string;
  attempt: number;
}

describe('outbound status webhooks: registered per app, signed, retried with backoff, never in the way of delivery', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'statushooks', env: { CLARION_STATUS_WEBHOOK_BACKOFF_MS: '100' } });
    app = await appWithWendy();
  });
  after(() => h.close());

  /** A new app with one user, wendy, reached on the sandbox's webhook receiver. */
  async function appWithWendy(): Promise<TestApp> {
    const created = await h.createApp();
    const put = await created.call('/v1/users/wendy', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/wendy` },
    });
    assert.equal(put.status, 201);
    return created;
  }

  const posts = (name: string, outcome?: string) =>
    h.sandbox.recorder
      .list({ provider: 'webhook', to: name, ...(outcome ? { outcome } : {}) })
      .map((r) => r.payload as Posted);

  test('a receiver that fails twice then recovers gets the signed "sent" event on the third attempt; the delivery did not wait', async () => {
    const created = await app.call('/v1/webhooks', {
      body: { url: `${h.sandbox.url}/webhook/status-a`, secret: WEBHOOK_SECRET },
    });
    assert.equal(created.status, 201);
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'status-a', fail: '500', times: 2 });
    const id = await send(app, { to: { userId: 'wendy' }, content: { webhook: { json: { hello: 1 } } } });
    // The delivery is sent while the status receiver is still failing.
    const d = await deliveryOf(app, id, (x) => x.status === 'sent', 'sent');
    const [accepted] = await h.sandbox.recorder.waitFor(1, {
      provider: 'webhook',
      to: 'status-a',
      outcome: 'accepted',
    });
    const event = accepted!.payload as Posted;
    assert.equal(event.type, 'sent');
    assert.equal(event.deliveryId, d.id);
    assert.equal(event.notificationId, id);
    assert.equal(event.userId, 'wendy');
    assert.equal(event.channel, 'webhook');
    assert.equal(event.id, `${d.id}.sent`);
    assert.equal(event.attempt, 3);
    assert.equal(posts('status-a', 'http_500').length, 2);
    // Client-reported steps reach the webhook too.
    assert.equal(
      (await app.call('/v1/events', { body: { events: [{ deliveryId: d.id, type: 'clicked' }] } })).status,
      200,
    );
    await waitFor('clicked posted', () =>
      posts('status-a', 'accepted').find((p) => p.type === 'clicked' && p.deliveryId === d.id),
    );
    const del = await app.call(`/v1/webhooks/${(await json<{ id: string }>(created)).id}`, {
      method: 'DELETE',
    });
    assert.equal(del.status, 204);
  });

  test('a webhook only gets the event types it asked for; a generated secret starts with whsec_ and is shown once', async () => {
    const created = await app.call('/v1/webhooks', {
      body: { url: `${h.sandbox.url}/webhook/status-b`, events: ['failed'] },
    });
    assert.equal(created.status, 201);
    const hook = await json<{ id: string; secret: string; events: string[] }>(created);
    assert.match(hook.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(hook.events, ['failed']);
    const listed = await json<{ webhooks: Record<string, unknown>[] }>(await app.call('/v1/webhooks'));
    assert.deepEqual(
      listed.webhooks.map((w) => w.id),
      [hook.id],
    );
    assert.equal(listed.webhooks[0]!.secret, undefined);
    const catchAll = await app.call('/v1/webhooks', {
      body: { url: `${h.sandbox.url}/webhook/status-c`, secret: WEBHOOK_SECRET },
    });
    const id = await send(app, { to: { userId: 'wendy' }, content: { webhook: { json: { hello: 2 } } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'sent', 'sent');
    await waitFor('catch-all got sent', () =>
      posts('status-c', 'accepted').find((p) => p.deliveryId === d.id),
    );
    assert.equal(posts('status-b').length, 0);
    for (const w of [hook.id, (await json<{ id: string }>(catchAll)).id])
      assert.equal((await app.call(`/v1/webhooks/${w}`, { method: 'DELETE' })).status, 204);
    assert.equal((await app.call(`/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status, 404);
    assert.deepEqual((await json<{ webhooks: unknown[] }>(await app.call('/v1/webhooks'))).webhooks, []);
  });

  test('an app that had no webhook while it sent gets the events of what it sends once it registers one', async () => {
    const quiet = await appWithWendy();
    // Sent with no webhook: the dispatcher learns that this app has none and queues nothing for it.
    const before = await send(quiet, { to: { userId: 'wendy' }, content: { webhook: { json: { n: 1 } } } });
    const first = await deliveryOf(quiet, before, (x) => x.status === 'sent', 'sent');
    const created = await quiet.call('/v1/webhooks', {
      body: { url: `${h.sandbox.url}/webhook/status-late`, secret: WEBHOOK_SECRET },
    });
    assert.equal(created.status, 201);
    const after = await send(quiet, { to: { userId: 'wendy' }, content: { webhook: { json: { n: 2 } } } });
    const second = await deliveryOf(quiet, after, (x) => x.status === 'sent', 'sent');
    await waitFor('the later delivery posted', () =>
      posts('status-late', 'accepted').find((p) => p.deliveryId === second.id && p.type === 'sent'),
    );
    assert.equal(posts('status-late').filter((p) => p.deliveryId === first.id).length, 0);
  });

  test('bad registrations are 400, more than ten is 409, and nothing is stored', async () => {
    for (const body of [
      {},
      { url: 'not a url' },
      { url: 'ftp://example.com/x' },
      { url: 'https://example.com/x', events: ['bounced'] },
      { url: 'https://example.com/x', events: [] },
      { url: 'https://example.com/x', secret: 'short' },
      { url: 'https://example.com/x', extra: true },
    ]) {
      const res = await app.call('/v1/webhooks', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'invalid_request');
    }
    assert.equal((await app.call('/v1/webhooks/not-an-id', { method: 'DELETE' })).status, 404);
    const other = await h.createApp();
    for (let i = 0; i < 10; i++)
      assert.equal(
        (await other.call('/v1/webhooks', { body: { url: `https://example.com/${i}` } })).status,
        201,
      );
    const eleventh = await other.call('/v1/webhooks', { body: { url: 'https://example.com/11' } });
    assert.equal(eleventh.status, 409);
    assert.equal((await json<{ webhooks: unknown[] }>(await other.call('/v1/webhooks'))).webhooks.length, 10);
    assert.deepEqual(
      (await json<{ webhooks: unknown[] }>(await app.call('/v1/webhooks'))).webhooks,
      [],
      'another app sees none of them',
    );
  });

  test('the signature: HMAC-SHA256 over "<t>.<body>"; wrong secret, changed body or a timestamp outside five minutes fail', () => {
    const body = '{"type":"sent"}';
    const header = signStatusWebhook('s3cret-s3cret-s3cret', body);
    assert.equal(verifyStatusWebhook('s3cret-s3cret-s3cret', header, body), true);
    assert.equal(verifyStatusWebhook('other-secret-value', header, body), false);
    assert.equal(verifyStatusWebhook('s3cret-s3cret-s3cret', header, '{"type":"failed"}'), false);
    assert.equal(verifyStatusWebhook('s3cret-s3cret-s3cret', header, body, Date.now() + 301_000), false);
    assert.equal(verifyStatusWebhook('s3cret-s3cret-s3cret', undefined, body), false);
  });
});
