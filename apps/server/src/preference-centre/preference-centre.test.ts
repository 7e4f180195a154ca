import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { smtpFake } from '@clarion/sandbox';
import { signUserToken } from '../auth/user-token';
import { sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';
import { UnsubscribeTokens } from '../unsubscribe/unsubscribe-token';

interface Prefs {
  rules: { channel: string; category: string; enabled: boolean; source: string }[];
  quietHours: { start: string; end: string } | null;
}

describe('hosted preference centre: signed link, HTML page, form save', () => {
  let h: Harness;
  let app: TestApp;
  const local = (url: string) => url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/+$/, ''), h.url);
  const linkFor = async (user: string, body: Record<string, unknown> = {}) => {
    const res = await app.call(`/v1/users/${user}/preferences/link`, { body });
    assert.equal(res.status, 200, await res.clone().text());
    return json<{ url: string; expiresAt: string }>(res);
  };
  const prefs = async (user: string) =>
    json<Prefs>(await app.call(`/v1/users/${user}/preferences`, { method: 'GET' }));
  const post = (form: Record<string, string>) =>
    fetch(`${h.url}/v1/preferences/page`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const allPrefs = () => sql(h.db.url, 'SELECT * FROM user_preferences ORDER BY user_id, channel, category');

  before(async () => {
    h = await startHarness({
      label: 'prefcentre',
      fakes: [smtpFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-smtp' },
    });
    app = await h.createApp({
      categoryDefaults: { news: 'opt_in', marketing: 'opt_out' },
      criticalCategories: ['security'],
    });
    for (const user of ['ivy', 'jon']) {
      const res = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { email: `${user}@example.com`, timezone: 'Europe/Berlin' },
      });
      assert.equal(res.status, 201);
    }
  });
  after(() => h.close());

  test('the link endpoint returns a public URL and its expiry; client keys, unknown users and bad input are refused', async () => {
    const before = Date.now();
    const { url, expiresAt } = await linkFor('ivy');
    assert.ok(
      url.startsWith(`${h.env.CLARION_PUBLIC_URL.replace(/\/+$/, '')}/v1/preferences/page?token=`),
      url,
    );
    const after = Date.now();
    // Between 30 days from before the call and 30 days from after it, give or take the second the
    // token's expiry is rounded to.
    const expires = Date.parse(expiresAt);
    assert.ok(
      expires >= before + 30 * 86_400_000 - 1000 && expires <= after + 30 * 86_400_000 + 1000,
      `default 30 days, got ${(expires - before) / 86_400_000}`,
    );
    const short = await linkFor('ivy', { expiresIn: 3600 });
    assert.ok(Date.parse(short.expiresAt) <= Date.now() + 3_600_000);

    assert.equal((await app.call('/v1/users/nobody/preferences/link', { body: {} })).status, 404);
    const bad = await app.call('/v1/users/ivy/preferences/link', { body: { expiresIn: -1 } });
    assert.equal(bad.status, 400);
    assert.equal((await json<{ error: { code: string } }>(bad)).error.code, 'invalid_request');
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const asClient = await fetch(`${h.url}/v1/users/ivy/preferences/link`, {
      method: 'POST',
      headers: {
        authorization: basic(client.appKey, client.appSecret),
        'x-clarion-user-token': await signUserToken('ivy', app.userTokenSecret),
        'content-type': 'application/json',
      },
      body: '{}',
    });
    assert.equal(asClient.status, 403, 'the link grants what a server key grants: server keys only');
  });

  test('the page shows channels × categories, the critical one fixed, quiet hours with the time zone; every input labelled', async () => {
    const { url } = await linkFor('ivy');
    const res = await fetch(local(url));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(
      res.headers.get('set-cookie'),
      null,
      'no cookies: the token in the form is the only authority',
    );
    const html = await res.text();
    for (const legend of ['marketing', 'news', 'security (always on)', 'Everything else', 'Quiet hours'])
      assert.ok(html.includes(`<legend>${legend}</legend>`), legend);
    assert.match(html, /Europe\/Berlin/);
    // news is opt-in by default: shown off; marketing opt-out: shown on.
    assert.match(html, /name="on:email:news" value="1">/);
    assert.match(html, /name="on:email:marketing" value="1" checked>/);
    assert.match(html, /checked disabled aria-describedby="note-2"/);
    const inputs = [...html.matchAll(/<input ([^>]*)>/g)]
      .map((m) => m[1]!)
      .filter((a) => !a.includes('type="hidden"'));
    assert.ok(inputs.length >= 11);
    for (const attrs of inputs) {
      const id = /id="([^"]+)"/.exec(attrs)?.[1];
      assert.ok(id && html.includes(`<label for="${id}">`), `input without a label: ${attrs}`);
    }
  });

  test('saving the form writes through the preferences service (same rules the API shows), source preference_centre', async () => {
    const { url } = await linkFor('ivy');
    const token = new URL(url).searchParams.get('token')!;
    const shown = 'email:marketing webhook:marketing email:news webhook:news email:* webhook:*';
    // Marketing e-mail off, news e-mail on, everything else untouched; quiet hours on.
    const res = await post({
      token,
      shown,
      'on:webhook:marketing': '1',
      'on:email:news': '1',
      'on:email:*': '1',
      'on:webhook:*': '1',
      quiet: '1',
      quietStart: '21:30',
      quietEnd: '06:45',
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /role="status">Your preferences are saved/);
    const p = await prefs('ivy');
    assert.deepEqual(
      p.rules.map(({ channel, category, enabled, source }) => ({ channel, category, enabled, source })),
      [
        { channel: 'email', category: 'marketing', enabled: false, source: 'preference_centre' },
        { channel: 'email', category: 'news', enabled: true, source: 'preference_centre' },
      ],
    );
    assert.deepEqual(p.quietHours, { start: '21:30', end: '06:45', categories: null });
    // The page now reflects it.
    const html = await (await fetch(local(url))).text();
    assert.match(html, /name="on:email:marketing" value="1">/);
    assert.match(html, /name="on:email:news" value="1" checked>/);
    assert.match(html, /id="qh-on" name="quiet" value="1" checked>/);
  });

  test('turning "everything else" off keeps the named toggles as they were shown', async () => {
    const { url } = await linkFor('jon');
    const token = new URL(url).searchParams.get('token')!;
    const res = await post({
      token,
      shown: 'email:marketing email:*',
      'on:email:marketing': '1',
    });
    assert.equal(res.status, 200);
    const rules = (await prefs('jon')).rules.map(({ channel, category, enabled }) => ({
      channel,
      category,
      enabled,
    }));
    assert.deepEqual(rules, [
      { channel: 'email', category: '*', enabled: false },
      { channel: 'email', category: 'marketing', enabled: true },
    ]);
  });

  test('a critical category cannot be turned off by the form, even a hand-made one', async () => {
    const { url } = await linkFor('jon');
    const token = new URL(url).searchParams.get('token')!;
    const before = await allPrefs();
    const res = await post({ token, shown: 'email:security webhook:security' });
    assert.equal(res.status, 200);
    assert.deepEqual(await allPrefs(), before);
  });

  test('a refused save (bad quiet hours) is a 400 page with the form and the reason, and writes nothing', async () => {
    const { url } = await linkFor('jon');
    const token = new URL(url).searchParams.get('token')!;
    const before = await allPrefs();
    const res = await post({
      token,
      shown: 'email:news',
      'on:email:news': '1',
      quiet: '1',
      quietStart: '25:00',
      quietEnd: '07:00',
    });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /role="alert">Not saved: invalid body: body.quietHours.start: HH:MM/);
    assert.match(html, /<form method="post"/);
    assert.deepEqual(await allPrefs(), before);
  });

  test('forged, expired, malformed and unsubscribe tokens get a 4xx HTML page and change nothing', async () => {
    const { url } = await linkFor('ivy');
    const token = new URL(url).searchParams.get('token')!;
    const [body] = token.split('.') as [string, string];
    const [ivy] = await sql<{ id: string; app_id: string }>(
      h.db.url,
      "SELECT id, app_id FROM users WHERE external_id = 'ivy'",
    );
    const tokens = new PreferenceCentreTokens(h.env.CLARION_ENCRYPTION_KEY);
    const expired = tokens.sign({
      appId: ivy!.app_id,
      userId: ivy!.id,
      expiresAt: new Date(Date.now() - 1000),
    });
    const unsubscribe = new UnsubscribeTokens(h.env.CLARION_ENCRYPTION_KEY).sign({
      appId: ivy!.app_id,
      userId: ivy!.id,
      category: '*',
    });
    const before = await allPrefs();
    for (const [bad, status] of [
      [`${body}.${'A'.repeat(43)}`, 401],
      [expired, 410],
      [unsubscribe, 400],
      ['not-a-token', 400],
      ['', 400],
    ] as const) {
      const get = await fetch(`${h.url}/v1/preferences/page?token=${encodeURIComponent(bad)}`);
      assert.equal(get.status, status, `GET ${bad}`);
      assert.match(get.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await get.text(), /This link cannot be used/);
      const save = await post({ token: bad, shown: 'email:*' });
      assert.equal(save.status, status, `POST ${bad}`);
    }
    // And a preference-centre token is no unsubscribe token.
    const unsub = await fetch(`${h.url}/v1/unsubscribe?token=${token}`, { method: 'POST' });
    assert.equal(unsub.status, 400);
    assert.deepEqual(await allPrefs(), before);
  });
});
