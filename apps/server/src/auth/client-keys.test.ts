import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countRows } from '../testing/db';
import { basic, json, type TestApp } from '../testing/harness';
import {
  type DeliveryView,
  deliveryOf,
  startTrackingHarness,
  type TrackingHarness,
} from '../testing/tracking-harness';
import { signUserToken } from './user-token';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** What a client (publishable) key may do: the limits that keep it from being a relay. */
describe('client keys', () => {
  let t: TrackingHarness;
  let app: TestApp;
  let client: { appKey: string; appSecret: string };
  const ORIGIN = 'https://app.example';

  before(async () => {
    t = await startTrackingHarness('clientkeys');
    app = await t.h.createApp({
      allowClientSending: true,
      clientTemplates: ['hello'],
      clientSmsPerDay: 2,
      trackClicks: true,
      corsOrigins: [ORIGIN],
    });
    client = await json(
      await t.h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    for (const [id, phone] of [
      ['ann', '+14155550101'],
      ['bob', '+14155550102'],
      ['cat', '+14155550103'],
    ] as const) {
      const res = await app.call(`/v1/users/${id}`, {
        method: 'PUT',
        body: { email: `${id}@example.com`, phone, webhookUrl: `${t.h.sandbox.url}/webhook/${id}` },
      });
      assert.equal(res.status, 201);
    }
    for (const [key, content] of [
      [
        'hello',
        {
          email: {
            subject: 'Hello',
            html: '<html><body><a href="{{ data.link }}">go</a> <a href="https://shop.example/help">help</a></body></html>',
          },
          sms: { text: 'Hello {{ data.link }}' },
        },
      ],
      ['internal', { webhook: { json: { secret: true } } }],
    ] as const) {
      assert.equal(
        (await app.call(`/v1/templates/${key}`, { method: 'PUT', body: { content } })).status,
        201,
      );
    }
  });
  after(() => t.close());

  const asClient = async (
    user: string,
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
    key = client,
  ) =>
    fetch(`${t.h.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        authorization: basic(key.appKey, key.appSecret),
        'content-type': 'application/json',
        'x-clarion-user-token': await signUserToken(user, app.userTokenSecret),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const notifications = async () => (await countRows(t.h.db.url, ['notifications'])).notifications;
  const errorOf = async (res: Response, status: number) => {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}`);
    return (await json<ErrorBody>(res)).error;
  };
  const hello = (to: string, extra: Record<string, unknown> = {}) => ({
    to: { userId: to },
    template: 'hello',
    data: { link: 'https://shop.example/orders/1' },
    channels: ['email'],
    ...extra,
  });

  test('send only templates the app lists, with no inline content, priority or critical category', async () => {
    const before = await notifications();
    for (const [body, pattern] of [
      [{ to: { userId: 'ann' }, content: { sms: { text: 'Your bank: call +1900…' } } }, /clientTemplates/],
      [
        {
          to: { userId: 'ann' },
          content: { email: { subject: 'Bank', text: 'x', from: 'security@bank.example' } },
        },
        /clientTemplates/,
      ],
      [{ to: { userId: 'ann' }, template: 'internal' }, /"internal" is not listed/],
      [hello('ann', { priority: 'high' }), /priority/],
      [hello('ann', { priority: 'normal' }), /priority/],
      [hello('ann', { category: 'security' }), /critical category "security"/],
      [hello('bob'), /signed-in user/],
    ] as const) {
      const error = await errorOf(await asClient('ann', '/v1/notifications', { body }), 403);
      assert.equal(error.code, 'forbidden');
      assert.match(error.message, pattern);
    }
    assert.equal(await notifications(), before, 'nothing was written');
    assert.equal((await asClient('ann', '/v1/notifications', { body: hello('ann') })).status, 202);
    assert.equal(
      (await asClient('ann', '/v1/notifications', { body: hello('ann', { category: 'promo' }) })).status,
      202,
    );
    // The same request with a server key is fine.
    assert.equal(
      (
        await app.call('/v1/notifications', {
          body: hello('ann', { priority: 'high', category: 'security' }),
        })
      ).status,
      202,
    );
  });

  test("may not set the user's phone or e-mail (unverified numbers and addresses); a server key may", async () => {
    for (const body of [
      { phone: '+19005550100' },
      { email: 'victim@example.com' },
      { locale: 'en', phone: null },
    ]) {
      const error = await errorOf(await asClient('ann', '/v1/users/ann', { method: 'PUT', body }), 403);
      assert.match(error.message, /phone|email/);
    }
    const user = await json<{ email: string; phone: string }>(await app.call('/v1/users/ann'));
    assert.deepEqual([user.email, user.phone], ['ann@example.com', '+14155550101'], 'unchanged');
    assert.equal(
      (await asClient('ann', '/v1/users/ann', { method: 'PUT', body: { locale: 'pt-BR' } })).status,
      200,
    );
  });

  test('SMS from client keys come out of a per-user daily budget (429 when spent, nothing written); server keys are not counted', async () => {
    const sms = { ...hello('cat'), channels: ['sms'] };
    assert.equal((await asClient('cat', '/v1/notifications', { body: sms })).status, 202);
    assert.equal((await asClient('cat', '/v1/notifications', { body: sms })).status, 202);
    const before = await notifications();
    const res = await asClient('cat', '/v1/notifications', { body: sms });
    const error = await errorOf(res, 429);
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.details?.limit, 2);
    assert.equal(await notifications(), before, 'the refused request wrote nothing');
    // Without SMS the user may still be notified; a server key is not limited by the client budget.
    assert.equal((await asClient('cat', '/v1/notifications', { body: hello('cat') })).status, 202);
    assert.equal((await app.call('/v1/notifications', { body: sms })).status, 202);
    await t.messaging.recorder.waitFor(3, { provider: 'twilio', to: '+14155550103', outcome: 'accepted' });
  });

  test('links in client-sent messages are not rewritten to tracking links (no open redirect); server-sent ones are', async () => {
    const evil = 'https://evil.example/login';
    const viaClient = { ...hello('bob'), data: { link: evil }, channels: ['email'] };
    assert.equal((await asClient('bob', '/v1/notifications', { body: viaClient })).status, 202);
    const mail = (
      await t.messaging.recorder.waitFor(1, {
        provider: 'sendgrid',
        to: 'bob@example.com',
        outcome: 'accepted',
      })
    ).at(-1)!.payload as { html: string };
    assert.match(mail.html, /href="https:\/\/evil\.example\/login"/);
    assert.doesNotMatch(mail.html, /\/t\//);

    assert.equal((await app.call('/v1/notifications', { body: viaClient })).status, 202);
    const tracked = (
      await t.messaging.recorder.waitFor(2, {
        provider: 'sendgrid',
        to: 'bob@example.com',
        outcome: 'accepted',
      })
    ).at(-1)!.payload as { html: string };
    assert.doesNotMatch(tracked.html, /evil\.example/);
    assert.match(tracked.html, /\/t\//);
  });

  test("client eventIds have their own namespace: no collision with the server's or another user's, no foreign notification id", async () => {
    const server = await app.call('/v1/notifications', { body: { ...hello('ann'), eventId: 'order-1' } });
    assert.equal(server.status, 202);
    const serverId = (await json<{ id: string }>(server)).id;

    // The same eventId from a client is its own: accepted, a new notification.
    const first = await asClient('ann', '/v1/notifications', { body: hello('ann', { eventId: 'order-1' }) });
    assert.equal(first.status, 202);
    const clientId = (await json<{ id: string }>(first)).id;
    assert.notEqual(clientId, serverId);
    // Another user's same eventId does not find ann's.
    const bob = await asClient('bob', '/v1/notifications', { body: hello('bob', { eventId: 'order-1' }) });
    assert.equal(bob.status, 202);
    assert.notEqual((await json<{ id: string }>(bob)).id, clientId);
    // A repeat is idempotent; a different body is 409 without any notification id.
    const repeat = await asClient('ann', '/v1/notifications', { body: hello('ann', { eventId: 'order-1' }) });
    assert.equal(repeat.status, 200);
    const changed = await asClient('ann', '/v1/notifications', {
      body: hello('ann', { eventId: 'order-1', data: { link: 'https://x.example' } }),
    });
    const error = await errorOf(changed, 409);
    assert.equal(JSON.stringify(error).includes(clientId), false);
    assert.deepEqual(error.details, []);

    // Server keys keep their behaviour, and cannot reach into the client namespace.
    const serverChanged = await app.call('/v1/notifications', {
      body: { ...hello('ann'), eventId: 'order-1', data: { link: 'https://y.example' } },
    });
    assert.equal((await errorOf(serverChanged, 409)).details?.notificationId, serverId);
    const reserved = await app.call('/v1/notifications', {
      body: { ...hello('ann'), eventId: 'client:ann:order-1' },
    });
    assert.equal((await errorOf(reserved, 400)).code, 'invalid_request');
  });

  test('a device token registered by one user is not moved to another by a client key (409); a server key moves it', async () => {
    const device = { platform: 'android', token: 'fcm-token-shared-0123456789abcdef' };
    assert.equal((await asClient('ann', '/v1/users/ann/devices', { body: device })).status, 201);
    const error = await errorOf(await asClient('dan', '/v1/users/dan/devices', { body: device }), 409);
    assert.equal(error.code, 'device_taken');
    const ann = await json<{ devices: unknown[] }>(await app.call('/v1/users/ann'));
    assert.equal(ann.devices.length, 1, 'still ann’s');
    assert.equal((await app.call('/v1/users/dan')).status, 404, 'the refused call created no user');
    assert.equal(
      (await asClient('ann', '/v1/users/ann/devices', { body: device })).status,
      200,
      'ann again: fine',
    );
    assert.equal((await app.call('/v1/users/dan/devices', { body: device })).status, 200);
    assert.equal((await json<{ devices: unknown[] }>(await app.call('/v1/users/ann'))).devices.length, 0);
    assert.equal((await json<{ devices: unknown[] }>(await app.call('/v1/users/dan'))).devices.length, 1);
  });

  test('opened and clicked are accepted only for a delivery that was sent (409 otherwise, nothing changes)', async () => {
    const sendAt = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = await app.call('/v1/notifications', { body: { ...hello('ann'), sendAt } });
    assert.equal(scheduled.status, 202);
    const id = (await json<{ id: string }>(scheduled)).id;
    // Settled first: a scheduled delivery is stored `queued`, its delayed job added right after the commit.
    const settled = (d: DeliveryView) => d.status === 'queued' && d.events.some((e) => e.status === 'queued');
    const pending = await deliveryOf(app, id, settled, 'the scheduled delivery queued');
    for (const type of ['clicked', 'opened']) {
      const error = await errorOf(
        await asClient('ann', '/v1/events', { body: { events: [{ deliveryId: pending.id, type }] } }),
        409,
      );
      assert.equal(error.code, 'not_sent');
    }
    const after = await deliveryOf(app, id, () => true);
    assert.equal(after.status, pending.status);
    assert.equal(after.events.length, pending.events.length);
    assert.equal((await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' })).status, 200);

    const sent = await app.call('/v1/notifications', { body: hello('ann') });
    const sentId = (await json<{ id: string }>(sent)).id;
    const delivered = await deliveryOf(app, sentId, (d) => ['sent', 'delivered'].includes(d.status), 'sent');
    const ok = await asClient('ann', '/v1/events', {
      body: { events: [{ deliveryId: delivered.id, type: 'clicked' }] },
    });
    assert.equal(ok.status, 200);
  });

  test('from and replyTo are one address (optional display name, no line breaks); with verified senders, from must be one', async () => {
    const mail = (extra: { from?: string; replyTo?: string }) => ({
      to: { userId: 'ann' },
      content: { email: { subject: 'Hi', text: 'Hi', ...extra } },
      channels: ['email'],
    });
    const before = await notifications();
    for (const extra of [
      { from: 'shop@app.example\r\nBcc: all@victims.example' },
      { from: 'Shop\r\n <shop@app.example>' },
      { from: 'not an address' },
      { from: 'a@app.example, b@app.example' },
      { replyTo: 'help@app.example\nX-Evil: 1' },
    ]) {
      const error = await errorOf(await app.call('/v1/notifications', { body: mail(extra) }), 400);
      assert.match(error.message, /from|replyTo/);
    }
    const template = await app.call('/v1/templates/spoof', {
      method: 'PUT',
      body: { content: { email: { subject: 'x', text: 'x', from: 'a@b.example\r\nBcc: c@d.example' } } },
    });
    assert.equal(template.status, 400);
    assert.equal(await notifications(), before);
    // Without verified senders an app may not choose from at all (it could send as any domain).
    const unlisted = await app.call('/v1/notifications', { body: mail({ from: 'shop@app.example' }) });
    assert.equal((await errorOf(unlisted, 422)).code, 'unverified_sender');
    assert.equal(await notifications(), before);
    // Valid verified ones reach the provider, the display name split off.
    const shop = await t.h.createApp({ senders: ['shop@app.example'] });
    assert.equal(
      (await shop.call('/v1/users/eve', { method: 'PUT', body: { email: 'eve@example.com' } })).status,
      201,
    );
    const valid = ['shop@app.example', 'Shop <shop@app.example>', '"Shop, Inc." <shop@app.example>'];
    for (const from of valid) {
      const res = await shop.call('/v1/notifications', {
        body: { ...mail({ from }), to: { userId: 'eve' } },
      });
      assert.equal(res.status, 202, from);
    }
    const sent = await t.messaging.recorder.waitFor(3, {
      provider: 'sendgrid',
      to: 'eve@example.com',
      outcome: 'accepted',
    });
    assert.deepEqual(
      sent.map((r) => (r.payload as { from: string }).from),
      valid.map(() => 'shop@app.example'),
    );

    const verified = await t.h.createApp({ senders: ['Shop <shop@app.example>', 'help@app.example'] });
    assert.equal(
      (await verified.call('/v1/users/ann', { method: 'PUT', body: { email: 'ann@example.com' } })).status,
      201,
    );
    const refused = await verified.call('/v1/notifications', {
      body: mail({ from: 'security@bank.example' }),
    });
    const error = await errorOf(refused, 422);
    assert.equal(error.code, 'unverified_sender');
    // A template's from is checked too, in every locale.
    const localized = await verified.call('/v1/templates/news', {
      method: 'PUT',
      body: {
        content: { email: { subject: 'News', text: 'News', from: 'help@app.example' } },
        locales: {
          fr: { email: { subject: 'Nouvelles', text: 'Nouvelles', from: 'ceo@elsewhere.example' } },
        },
      },
    });
    assert.equal(localized.status, 201);
    const viaTemplate = await verified.call('/v1/notifications', {
      body: { to: { userId: 'ann' }, template: 'news' },
    });
    assert.equal((await errorOf(viaTemplate, 422)).code, 'unverified_sender');
    for (const ok of [{ from: 'SHOP@app.example' }, { from: 'Help desk <help@app.example>' }, {}]) {
      assert.equal((await verified.call('/v1/notifications', { body: mail(ok) })).status, 202);
    }
  });

  describe('CORS for browser apps', () => {
    const preflight = (path: string, method: string, origin: string) =>
      fetch(`${t.h.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, content-type, x-clarion-user-token',
        },
      });

    test('a preflight from a listed origin to a client-key route is allowed', async () => {
      for (const [path, method] of [
        ['/v1/notifications', 'POST'],
        ['/v1/users/ann', 'PUT'],
        ['/v1/users/ann/devices', 'POST'],
        ['/v1/events', 'POST'],
      ] as const) {
        const res = await preflight(path, method, ORIGIN);
        assert.equal(res.status, 204, `${method} ${path}`);
        assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
        assert.equal(res.headers.get('access-control-allow-methods'), method);
        assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-clarion-user-token/);
      }
    });

    test('an unlisted origin, or a server-only route, gets no CORS answer', async () => {
      for (const [path, method, origin] of [
        ['/v1/notifications', 'POST', 'https://evil.example'],
        ['/v1/users/ann', 'DELETE', ORIGIN],
        ['/v1/templates/hello', 'PUT', ORIGIN],
      ] as const) {
        const res = await preflight(path, method, origin);
        assert.equal(res.status, 403, `${method} ${path} from ${origin}`);
        assert.equal(res.headers.get('access-control-allow-origin'), null);
        assert.equal((await json<ErrorBody>(res)).error.code, 'forbidden');
      }
    });

    test("actual requests: a client key of the app gets the origin back; a server key or another app's client key does not", async () => {
      const res = await asClient('ann', '/v1/users/ann', { headers: { origin: ORIGIN } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /ratelimit-remaining/);
      const other = await asClient('ann', '/v1/users/ann', { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      const server = await app.call('/v1/users/ann', { headers: { origin: ORIGIN } });
      assert.equal(server.headers.get('access-control-allow-origin'), null);

      const elsewhere = await t.h.createApp();
      const otherClient = await json<{ appKey: string; appSecret: string }>(
        await t.h.admin(`/admin/apps/${elsewhere.id}/keys`, {
          method: 'POST',
          body: JSON.stringify({ kind: 'client' }),
        }),
      );
      const foreign = await fetch(`${t.h.url}/v1/users/ann`, {
        headers: {
          origin: ORIGIN,
          authorization: basic(otherClient.appKey, otherClient.appSecret),
          'x-clarion-user-token': await signUserToken('ann', elsewhere.userTokenSecret),
        },
      });
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
    });
  });
});
