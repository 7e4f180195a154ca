import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { smtpFake } from '@clarion/sandbox';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Pref {
  channel: string;
  category: string;
  enabled: boolean;
  source: string;
}

describe('e-mail unsubscribe: List-Unsubscribe headers, confirmation page, RFC 8058 one-click', () => {
  let h: Harness;
  let app: TestApp;
  const prefs = (user: string) =>
    sql<Pref>(
      h.db.url,
      `SELECT p.channel, p.category, p.enabled, p.source FROM user_preferences p JOIN users u ON u.id = p.user_id
        WHERE u.external_id = $1 ORDER BY p.category`,
      [user],
    );

  /** Sends an e-mail through the SMTP plugin to the sandbox's SMTP server and returns the link in its headers. */
  async function linkFor(
    user: string,
    category?: string,
  ): Promise<{ url: string; headers: Record<string, string>; text: string | null }> {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: user },
        content: { email: { subject: 'News', html: '<p>Hello <b>there</b></p>' } },
        ...(category ? { category } : {}),
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const before = h.sandbox.recorder.count({ provider: 'smtp', to: `${user}@example.com` });
    const records = await h.sandbox.recorder.waitFor(before + 1, {
      provider: 'smtp',
      to: `${user}@example.com`,
      outcome: 'accepted',
    });
    const payload = records.at(-1)!.payload as { headers: Record<string, string>; text: string | null };
    const url = /<([^>]+)>/.exec((payload.headers['list-unsubscribe'] ?? '').replace(/\s+/g, ''))?.[1] ?? '';
    return { url, headers: payload.headers, text: payload.text };
  }

  before(async () => {
    h = await startHarness({
      label: 'unsub',
      fakes: [smtpFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-smtp' },
    });
    app = await h.createApp();
    for (const user of ['fay', 'gus', 'hal']) {
      assert.equal(
        (await app.call(`/v1/users/${user}`, { method: 'PUT', body: { email: `${user}@example.com` } }))
          .status,
        201,
      );
    }
  });
  after(() => h.close());

  test('every e-mail carries List-Unsubscribe (a link to this server) and List-Unsubscribe-Post, and a plain-text part', async () => {
    const { url, headers, text } = await linkFor('fay', 'marketing');
    assert.ok(url.startsWith(`${h.env.CLARION_PUBLIC_URL.replace(/\/$/, '')}/v1/unsubscribe?token=`), url);
    assert.equal(headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    assert.match(text ?? '', /Hello THERE|Hello there/, 'text part derived from the HTML');
  });

  test('GET shows a confirmation page and changes nothing; POST one-click opts out of that category', async () => {
    const { url } = await linkFor('fay', 'marketing');
    const local = url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/$/, ''), h.url);
    const page = await fetch(local);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /<form method="post"/);
    assert.match(html, /marketing/);
    assert.deepEqual(await prefs('fay'), [], 'a GET (mail scanners prefetch links) does not unsubscribe');

    const post = await fetch(local, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(post.status, 200);
    assert.match(await post.text(), /unsubscribed/);
    assert.deepEqual(await prefs('fay'), [
      { channel: 'email', category: 'marketing', enabled: false, source: 'unsubscribe_link' },
    ]);

    // Repeating it (mail clients retry) is harmless.
    assert.equal(
      (
        await fetch(local, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        })
      ).status,
      200,
    );
    assert.equal((await prefs('fay')).length, 1);
  });

  test('without a category the link opts out of all e-mail (category *)', async () => {
    const { url } = await linkFor('gus');
    const local = url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/$/, ''), h.url);
    assert.equal((await fetch(local, { method: 'POST' })).status, 200);
    assert.deepEqual(await prefs('gus'), [
      { channel: 'email', category: '*', enabled: false, source: 'unsubscribe_link' },
    ]);
  });

  test('critical categories (security) carry no unsubscribe link', async () => {
    const { headers } = await linkFor('hal', 'security');
    assert.equal(headers['list-unsubscribe'], undefined);
    assert.equal(headers['list-unsubscribe-post'], undefined);
  });

  test('a forged token is 401, a malformed one 400, and neither changes anything', async () => {
    const { url } = await linkFor('hal', 'marketing');
    const local = url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/$/, ''), h.url);
    const token = new URL(local).searchParams.get('token')!;
    const [body, mac] = token.split('.') as [string, string];
    // Same claim, other user: the signature no longer matches.
    const claim = JSON.parse(Buffer.from(body, 'base64url').toString()) as { u: string };
    const [fay] = await sql<{ id: string }>(h.db.url, "SELECT id FROM users WHERE external_id = 'fay'");
    const forgedBody = Buffer.from(JSON.stringify({ ...claim, u: fay!.id, c: '*' })).toString('base64url');
    const before = await sql(h.db.url, 'SELECT * FROM user_preferences ORDER BY user_id, channel, category');
    for (const [bad, status, code] of [
      [`${forgedBody}.${mac}`, 401, 'forged_token'],
      [`${body}.${'A'.repeat(43)}`, 401, 'forged_token'],
      ['not-a-token', 400, 'invalid_token'],
      ['', 400, 'invalid_token'],
      [`${body}.short`, 400, 'invalid_token'],
    ] as const) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(`${h.url}/v1/unsubscribe?token=${bad}`, { method });
        assert.equal(res.status, status, `${method} ${bad}`);
        assert.equal((await json<{ error: { code: string } }>(res)).error.code, code);
      }
    }
    assert.deepEqual(
      await sql(h.db.url, 'SELECT * FROM user_preferences ORDER BY user_id, channel, category'),
      before,
    );
  });

  test('a valid link for a user deleted since is a 404 and writes nothing', async () => {
    const { url } = await linkFor('hal', 'marketing');
    const local = url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/$/, ''), h.url);
    assert.equal((await app.call('/v1/users/hal', { method: 'DELETE' })).status, 204);
    const res = await fetch(local, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.deepEqual(await prefs('hal'), []);
  });
});
