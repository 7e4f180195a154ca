import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { DateTime } from 'luxon';
import { signUserToken } from '../auth/user-token';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  id: string;
  userId: string;
  channel: string;
  status: string;
  reason: string | null;
  heldUntil: string | null;
  events: { status: string; detail: Record<string, unknown> | null }[];
}
interface Prefs {
  userId: string;
  timezone: string | null;
  rules: { channel: string; category: string; enabled: boolean; source: string }[];
  quietHours: { start: string; end: string; categories: string[] | null } | null;
  app: { categoryDefaults: Record<string, string>; criticalCategories: string[] };
}
interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

describe('user preferences: GET/PUT /v1/users/:id/preferences and what the planner makes of them', () => {
  let h: Harness;
  let app: TestApp;
  const webhook = (content: Record<string, unknown> = {}) => ({ webhook: { json: content } });

  before(async () => {
    h = await startHarness({ label: 'prefs' });
    app = await h.createApp({
      categoryDefaults: { news: 'opt_in', marketing: 'opt_out' },
      criticalCategories: ['security'],
    });
    for (const u of ['ana', 'ben', 'cleo', 'dan', 'eve', 'fay']) {
      const put = await app.call(`/v1/users/${u}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${u}`, timezone: 'Europe/Lisbon' },
      });
      assert.equal(put.status, 201);
    }
  });
  after(() => h.close());

  const prefs = async (user: string) => json<Prefs>(await app.call(`/v1/users/${user}/preferences`));
  const putPrefs = (user: string, body: unknown) =>
    app.call(`/v1/users/${user}/preferences`, { method: 'PUT', body });
  const send = async (user: string, extra: Record<string, unknown> = {}) => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: user }, content: webhook({ n: Math.random() }), ...extra },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = await json<{ id: string }>(res);
    return json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`)).then((n) => ({
      id,
      delivery: n.deliveries[0]!,
    }));
  };
  const sentTo = async (user: string, id: string) =>
    waitFor(`a delivery to ${user}`, async () => {
      const n = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return n.deliveries[0]?.status === 'sent' ? n.deliveries[0] : undefined;
    });

  test('a new user has no rules; the answer shows the app defaults a settings screen needs', async () => {
    const p = await prefs('ana');
    assert.deepEqual(p.rules, []);
    assert.equal(p.quietHours, null);
    assert.equal(p.timezone, 'Europe/Lisbon');
    assert.deepEqual(p.app, {
      categoryDefaults: { news: 'opt_in', marketing: 'opt_out' },
      criticalCategories: ['security'],
    });
  });

  test('PUT sets rules and quiet hours, GET reads them back; enabled:null forgets a rule; unlisted rules stay', async () => {
    const res = await putPrefs('ana', {
      rules: [
        { channel: 'email', enabled: false },
        { channel: 'webhook', category: 'marketing', enabled: false },
        { channel: '*', category: 'news', enabled: true },
      ],
      quietHours: { start: '22:00', end: '07:00' },
    });
    assert.equal(res.status, 200);
    const body = await json<Prefs>(res);
    assert.deepEqual(
      body.rules.map((r) => [r.channel, r.category, r.enabled, r.source]),
      [
        ['*', 'news', true, 'api'],
        ['email', '*', false, 'api'],
        ['webhook', 'marketing', false, 'api'],
      ],
    );
    assert.deepEqual(body.quietHours, { start: '22:00', end: '07:00', categories: null });
    const again = await json<Prefs>(
      await putPrefs('ana', { rules: [{ channel: 'email', enabled: null }], quietHours: null }),
    );
    assert.deepEqual(
      again.rules.map((r) => `${r.channel}/${r.category}`),
      ['*/news', 'webhook/marketing'],
    );
    assert.equal(again.quietHours, null);
    assert.deepEqual(await prefs('ana'), again);
  });

  test('an opt-out is recorded on the delivery as `opted_out` and counted; other categories still go out', async () => {
    const { delivery } = await send('ana', { category: 'marketing' });
    assert.equal(delivery.status, 'suppressed');
    assert.equal(delivery.reason, 'opted_out');
    assert.deepEqual(
      delivery.events.map((e) => [e.status, e.detail?.reason]),
      [['suppressed', 'opted_out']],
    );
    const other = await send('ana', { category: 'orders' });
    await sentTo('ana', other.id);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(
      metrics,
      /clarion_deliveries_total\{[^}]*channel="webhook"[^}]*status="suppressed",reason="opted_out"[^}]*\} [1-9]/,
    );
  });

  test('an opt-in category is sent only to users who turned it on', async () => {
    const off = await send('ben', { category: 'news' });
    assert.equal(off.delivery.status, 'suppressed');
    assert.equal(off.delivery.reason, 'category_opt_in_required');
    const on = await send('ana', { category: 'news' }); // ana said yes to news on every channel
    await sentTo('ana', on.id);
  });

  test('the most specific rule wins: a yes for one category beats a no for the whole channel', async () => {
    await putPrefs('cleo', {
      rules: [
        { channel: 'webhook', enabled: false },
        { channel: '*', category: 'orders', enabled: true },
      ],
    });
    assert.equal((await send('cleo', { category: 'promo' })).delivery.reason, 'opted_out');
    assert.equal((await send('cleo')).delivery.reason, 'opted_out', 'no category: the channel rule');
    const orders = await send('cleo', { category: 'orders' });
    await sentTo('cleo', orders.id);
  });

  test('a critical category passes an opt-out of everything, and cannot be turned off by the API', async () => {
    await putPrefs('dan', { rules: [{ channel: '*', category: '*', enabled: false }] });
    assert.equal((await send('dan', { category: 'marketing' })).delivery.reason, 'opted_out');
    const security = await send('dan', { category: 'security' });
    await sentTo('dan', security.id);
    const before = await countRows(h.db.url, ['user_preferences']);
    const refused = await putPrefs('dan', {
      rules: [
        { channel: 'webhook', category: 'security', enabled: false },
        { channel: 'email', enabled: false },
      ],
    });
    assert.equal(refused.status, 422);
    const body = await json<ApiErrorBody>(refused);
    assert.equal(body.error.code, 'critical_category');
    assert.deepEqual(
      await countRows(h.db.url, ['user_preferences']),
      before,
      'nothing of the request was applied',
    );
    // What a user can do about a critical category: remove the contact.
    assert.equal(
      (await app.call('/v1/users/dan', { method: 'PUT', body: { webhookUrl: null } })).status,
      200,
    );
    assert.equal((await send('dan', { category: 'security' })).delivery.reason, 'no_contact');
  });

  test('quiet hours hold a notification (not drop it) until the window ends in the user’s time zone', async () => {
    const local = DateTime.now().setZone('Asia/Kolkata');
    const start = local.minus({ hours: 1 }).toFormat('HH:mm');
    const end = local.plus({ hours: 1 }).toFormat('HH:mm');
    await app.call('/v1/users/eve', { method: 'PUT', body: { timezone: 'Asia/Kolkata' } });
    assert.equal((await putPrefs('eve', { quietHours: { start, end } })).status, 200);
    const { id, delivery } = await send('eve', { category: 'orders' });
    assert.equal(delivery.reason, 'quiet_hours');
    assert.ok(delivery.heldUntil, 'the delivery says until when');
    const until = DateTime.fromISO(delivery.heldUntil!).setZone('Asia/Kolkata');
    assert.equal(until.toFormat('HH:mm'), end, 'held until the local end of the window');
    assert.ok(until.toMillis() > Date.now());
    const view = await waitFor('queued', async () => {
      const n = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return n.deliveries[0]?.status === 'queued' ? n.deliveries[0] : undefined;
    });
    assert.deepEqual(
      view.events.map((e) => e.status),
      ['pending', 'held', 'queued'],
    );
    assert.equal(view.events[1]!.detail?.reason, 'quiet_hours', 'the held event says why');
    // Not dropped: the job waits on the plugin queue as a delayed job until the window ends.
    const queue = new Queue('clarion.webhook', {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: h.prefix,
    });
    try {
      const job = await queue.getJob(delivery.id);
      assert.ok(job, 'the job is on the queue');
      assert.equal(await job.getState(), 'delayed');
      assert.ok(Math.abs(job.timestamp + job.delay - until.toMillis()) < 5_000, 'due when the window ends');
    } finally {
      await queue.close();
    }
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(metrics, /clarion_deliveries_total\{[^}]*status="held",reason="quiet_hours"[^}]*\} 1/);
  });

  test('critical notifications and categories outside a category-limited window are not held', async () => {
    const security = await send('eve', { category: 'security' });
    assert.equal(security.delivery.reason, null);
    await sentTo('eve', security.id);
    const local = DateTime.now().setZone('Asia/Kolkata');
    await putPrefs('eve', {
      quietHours: {
        start: local.minus({ hours: 1 }).toFormat('HH:mm'),
        end: local.plus({ hours: 1 }).toFormat('HH:mm'),
        categories: ['marketing'],
      },
    });
    const orders = await send('eve', { category: 'orders' });
    await sentTo('eve', orders.id);
    assert.equal((await send('eve', { category: 'marketing' })).delivery.reason, 'quiet_hours');
  });

  test('a scheduled notification is judged at its sendAt: held if it falls in the window, not if the window is over by then', async () => {
    const zone = 'America/Sao_Paulo';
    await app.call('/v1/users/eve', { method: 'PUT', body: { timezone: zone } });
    const local = DateTime.now().setZone(zone);
    const hhmm = (d: DateTime) => d.toFormat('HH:mm');
    const sendAt = DateTime.now().plus({ minutes: 60 }).toUTC().toISO();
    // Window covers sendAt: held until its end, after sendAt.
    await putPrefs('eve', {
      quietHours: { start: hhmm(local.minus({ minutes: 30 })), end: hhmm(local.plus({ minutes: 120 })) },
    });
    const held = await send('eve', { category: 'orders', sendAt });
    assert.equal(held.delivery.reason, 'quiet_hours');
    assert.equal(
      DateTime.fromISO(held.delivery.heldUntil!).setZone(zone).toFormat('HH:mm'),
      hhmm(local.plus({ minutes: 120 })),
    );
    // Window over before sendAt: not held (the job simply waits for sendAt).
    await putPrefs('eve', {
      quietHours: { start: hhmm(local.minus({ minutes: 30 })), end: hhmm(local.plus({ minutes: 30 })) },
    });
    const free = await send('eve', { category: 'orders', sendAt });
    assert.equal(free.delivery.reason, null);
    assert.equal(free.delivery.heldUntil, null);
    await putPrefs('eve', { quietHours: null });
  });

  test('client keys read and write the signed-in user’s preferences only', async () => {
    const key = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const token = await signUserToken('fay', app.userTokenSecret);
    const call = (path: string, init: { method?: string; body?: unknown; token?: string | null } = {}) =>
      fetch(`${h.url}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: basic(key.appKey, key.appSecret),
          ...(init.token === null ? {} : { 'x-clarion-user-token': init.token ?? token }),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body ? { body: JSON.stringify(init.body) } : {}),
      });
    const put = await call('/v1/users/fay/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'webhook', category: 'marketing', enabled: false }] },
    });
    assert.equal(put.status, 200);
    assert.deepEqual(
      (await json<Prefs>(put)).rules.map((r) => r.source),
      ['user'],
    );
    assert.equal((await call('/v1/users/fay/preferences')).status, 200);
    assert.equal((await call('/v1/users/ana/preferences')).status, 403);
    assert.equal(
      (await call('/v1/users/ana/preferences', { method: 'PUT', body: { rules: [] } })).status,
      403,
    );
    assert.equal((await call('/v1/users/fay/preferences', { token: null })).status, 401);
    assert.equal((await send('fay', { category: 'marketing' })).delivery.reason, 'opted_out');
  });

  test('bad input is a 400 that names the problem and changes nothing', async () => {
    const before = await countRows(h.db.url, ['user_preferences', 'user_quiet_hours']);
    const cases: [unknown, RegExp][] = [
      [
        { rules: [{ channel: 'pigeon', enabled: false }] },
        /unknown channel "pigeon"; allowed: \*, push, web, sms, email, webhook/,
      ],
      [{ rules: [{ channel: 'email', enabled: 'no' }] }, /enabled/],
      [{ rules: [{ channel: 'email', category: 'bad category!', enabled: false }] }, /category/],
      [{ rules: [{ channel: 'email', enabled: false, extra: 1 }] }, /rules\.0/],
      [
        {
          rules: [
            { channel: 'email', enabled: false },
            { channel: 'email', category: '*', enabled: true },
          ],
        },
        /once/,
      ],
      [{ quietHours: { start: '25:00', end: '07:00' } }, /HH:MM/],
      [{ quietHours: { start: '7:00', end: '08:00' } }, /HH:MM/],
      [{ quietHours: { start: '22:00', end: '22:00' } }, /differ/],
      [{ quietHours: { start: '22:00', end: '07:00', categories: [] } }, /quietHours\.categories/],
      [{}, /give rules, quietHours or both/],
      [{ rules: [], colour: 'red' }, /colour|Unrecognized/i],
      ['not json', /./],
      [[1, 2], /./],
    ];
    for (const [body, message] of cases) {
      const res = await putPrefs('ana', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status}`);
      const err = await json<ApiErrorBody>(res);
      assert.equal(err.error.code, 'invalid_request');
      assert.match(
        `${err.error.message} ${JSON.stringify(err.error.details ?? '')}`,
        message,
        JSON.stringify(body),
      );
    }
    const unknownChannel = await json<ApiErrorBody>(
      await putPrefs('ana', { rules: [{ channel: 'pigeon', enabled: false }] }),
    );
    assert.deepEqual((unknownChannel.error.details as { allowed: string[] }).allowed, [
      '*',
      'push',
      'web',
      'sms',
      'email',
      'webhook',
      'inbox',
    ]);
    assert.equal((await putPrefs('nobody', { rules: [{ channel: 'email', enabled: false }] })).status, 404);
    assert.equal((await app.call('/v1/users/nobody/preferences')).status, 404);
    assert.equal((await app.call('/v1/users/has%20space/preferences')).status, 400);
    assert.deepEqual(await countRows(h.db.url, ['user_preferences', 'user_quiet_hours']), before);
    assert.equal(
      (await sql(h.db.url, 'SELECT count(*)::int AS n FROM users WHERE external_id = $1', ['nobody']))[0]!.n,
      0,
      'no user was created',
    );
  });

  test('bad app settings for preferences and caps are a 400 from the admin API', async () => {
    const bad = [
      { categoryDefaults: { news: 'maybe' } },
      { rateLimits: [{ channel: 'push', max: 0, perSeconds: 60 }] },
      { rateLimits: [{ channel: 'push', max: 3, perSeconds: 60, overflow: 'drop' }] },
      { apiQuota: { limit: 10 } },
    ];
    for (const settings of bad) {
      const res = await h.admin(`/admin/apps/${app.id}/settings`, {
        method: 'PUT',
        body: JSON.stringify(settings),
      });
      assert.equal(res.status, 400, JSON.stringify(settings));
    }
  });
});
