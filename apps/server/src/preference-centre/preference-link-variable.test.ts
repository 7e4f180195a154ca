import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { smtpFake } from '@clarion/sandbox';
import { signUserToken } from '../auth/user-token';
import { sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

const DAY_MS = 86_400_000;

/** `{{ links.preferences }}`: the user's signed preference-page URL, rendered into a message. */
describe('links.preferences: the hosted preference page linked from a message', () => {
  let h: Harness;
  let app: TestApp;
  let client: { appKey: string; appSecret: string };
  const local = (url: string) => url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/+$/, ''), h.url);
  const userKey = async (user: string) =>
    (await sql<{ id: string }>(h.db.url, 'SELECT id FROM users WHERE external_id = $1', [user]))[0]!.id;
  const claimOf = (url: string) =>
    JSON.parse(
      Buffer.from(new URL(url).searchParams.get('token')!.split('.')[0]!, 'base64url').toString(),
    ) as { p: string; u: string; e: number };

  /** The text part of the next e-mail `user` receives after `send` (a 202 is asserted). */
  async function mailAfter(user: string, send: () => Promise<Response>): Promise<string> {
    const to = `${user}@example.com`;
    const before = h.sandbox.recorder.count({ provider: 'smtp', to });
    const res = await send();
    assert.equal(res.status, 202, await res.clone().text());
    const records = await h.sandbox.recorder.waitFor(before + 1, {
      provider: 'smtp',
      to,
      outcome: 'accepted',
    });
    return (records.at(-1)!.payload as { text: string | null }).text ?? '';
  }
  const urlIn = (text: string) =>
    /https?:\/\/\S+\/v1\/preferences\/page\?token=[A-Za-z0-9_.-]+/.exec(text)?.[0];
  const asClient = async (user: string, body: unknown) =>
    fetch(`${h.url}/v1/notifications`, {
      method: 'POST',
      headers: {
        authorization: basic(client.appKey, client.appSecret),
        'content-type': 'application/json',
        'x-clarion-user-token': await signUserToken(user, app.userTokenSecret),
      },
      body: JSON.stringify(body),
    });

  before(async () => {
    h = await startHarness({
      label: 'preflink',
      fakes: [smtpFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-smtp' },
    });
    app = await h.createApp({
      categoryDefaults: { marketing: 'opt_out' },
      allowClientSending: true,
      clientTemplates: ['manage'],
    });
    for (const user of ['ivy', 'jon']) {
      const res = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { email: `${user}@example.com` },
      });
      assert.equal(res.status, 201);
    }
    for (const [key, text] of [
      ['manage', 'Hi {{ user.id }}, manage your e-mail: {{ links.preferences }}'],
      ['plain', 'Hi {{ user.id }}, nothing to manage.'],
    ] as const) {
      const res = await app.call(`/v1/templates/${key}`, {
        method: 'PUT',
        body: { content: { email: { subject: key, text } } },
      });
      assert.equal(res.status, 201, await res.clone().text());
    }
    client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
  });
  after(() => h.close());

  test('inline content gets the recipient’s own link: it opens their page and saves their preferences only', async () => {
    const sentAt = Date.now();
    const text = await mailAfter('ivy', () =>
      app.call('/v1/notifications', {
        body: {
          to: { userId: 'ivy' },
          category: 'marketing',
          content: { email: { subject: 'News', text: 'Manage your e-mail: {{ links.preferences }}' } },
        },
      }),
    );
    const url = urlIn(text);
    assert.ok(url, text);
    assert.ok(
      url.startsWith(`${h.env.CLARION_PUBLIC_URL.replace(/\/+$/, '')}/v1/preferences/page?token=`),
      url,
    );
    const claim = claimOf(url);
    assert.equal(claim.p, 'preferences');
    assert.equal(claim.u, await userKey('ivy'));
    // The link endpoint's default expiry, 30 days (to the second the token stores).
    assert.ok(claim.e * 1000 >= sentAt + 30 * DAY_MS - 1000 && claim.e * 1000 <= Date.now() + 30 * DAY_MS);

    const page = await fetch(local(url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.ok(html.includes('<legend>marketing</legend>'), 'the page shows the app’s categories');
    assert.match(html, /name="on:email:marketing" value="1" checked>/);

    // Saving through the page from the e-mail changes ivy's rules, nobody else's.
    const saved = await fetch(`${h.url}/v1/preferences/page`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        token: new URL(url).searchParams.get('token')!,
        shown: 'email:marketing',
      }).toString(),
    });
    assert.equal(saved.status, 200);
    const rules = async (user: string) =>
      (
        await json<{ rules: { channel: string; category: string; enabled: boolean }[] }>(
          await app.call(`/v1/users/${user}/preferences`, { method: 'GET' }),
        )
      ).rules.map(({ channel, category, enabled }) => ({ channel, category, enabled }));
    assert.deepEqual(await rules('ivy'), [{ channel: 'email', category: 'marketing', enabled: false }]);
    assert.deepEqual(await rules('jon'), []);
  });

  test('a stored template renders the link per recipient; a template without it renders as before', async () => {
    const forIvy = urlIn(
      await mailAfter('ivy', () =>
        app.call('/v1/notifications', { body: { to: { userId: 'ivy' }, template: 'manage' } }),
      ),
    );
    const forJon = urlIn(
      await mailAfter('jon', () =>
        app.call('/v1/notifications', { body: { to: { userId: 'jon' }, template: 'manage' } }),
      ),
    );
    assert.ok(forIvy && forJon);
    assert.equal(claimOf(forIvy).u, await userKey('ivy'));
    assert.equal(claimOf(forJon).u, await userKey('jon'));
    assert.equal((await fetch(local(forJon))).status, 200);

    const plain = await mailAfter('jon', () =>
      app.call('/v1/notifications', { body: { to: { userId: 'jon' }, template: 'plain' } }),
    );
    // The SMTP transport ends the text part with a newline.
    assert.equal(plain.trimEnd(), 'Hi jon, nothing to manage.');
  });

  test('a topic (planned later by the fan-out worker) gives each subscriber their own link', async () => {
    for (const user of ['ivy', 'jon'])
      assert.ok((await app.call(`/v1/users/${user}/topics/news`, { method: 'PUT' })).ok);
    const counts = new Map(
      ['ivy', 'jon'].map((u) => [u, h.sandbox.recorder.count({ provider: 'smtp', to: `${u}@example.com` })]),
    );
    const res = await app.call('/v1/notifications', {
      body: {
        to: { topic: 'news' },
        content: { email: { subject: 'Topic', text: 'Yours: {{ links.preferences }}' } },
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    for (const user of ['ivy', 'jon']) {
      const to = `${user}@example.com`;
      const records = await h.sandbox.recorder.waitFor(counts.get(user)! + 1, {
        provider: 'smtp',
        to,
        outcome: 'accepted',
      });
      const url = urlIn((records.at(-1)!.payload as { text: string | null }).text ?? '');
      assert.ok(url, user);
      assert.equal(claimOf(url).u, await userKey(user));
    }
  });

  test('a preview shows a placeholder URL, never a live token', async () => {
    const res = await app.call('/v1/templates/manage/preview', { body: { userId: 'ivy' } });
    assert.equal(res.status, 200, await res.clone().text());
    const text = (await json<{ content: { email: { text: string } } }>(res)).content.email.text;
    assert.match(
      text,
      /^Hi ivy, manage your e-mail: https:\/\/preview\.invalid\/v1\/preferences\/page\?token=x+$/,
    );
  });

  test('a client key gets a link only for its own signed-in user; sending to another user is refused', async () => {
    const own = urlIn(
      await mailAfter('jon', () => asClient('jon', { to: { userId: 'jon' }, template: 'manage' })),
    );
    assert.ok(own);
    assert.equal(claimOf(own).u, await userKey('jon'));

    const count = async () =>
      Number((await sql<{ n: string }>(h.db.url, 'SELECT count(*) AS n FROM notifications'))[0]!.n);
    const before = await count();
    const other = await asClient('jon', { to: { userId: 'ivy' }, template: 'manage' });
    assert.equal(other.status, 403);
    assert.equal(await count(), before, 'nothing stored, so no link for ivy was made');
  });
});
