import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signUserToken } from '../auth/user-token';
import { sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

/**
 * The user-token secret signs every client key's user token: it is stored sealed with
 * CLARION_ENCRYPTION_KEY, never in plaintext, and can be rotated with a grace window in which
 * tokens signed by the old secret still verify.
 */
describe('user-token secret: sealed at rest, rotatable with a grace window', () => {
  let h: Harness;
  let app: TestApp;
  let client: { appKey: string; appSecret: string };
  before(async () => {
    h = await startHarness({ label: 'utsecret', role: 'api' });
    app = await h.createApp();
    client = await json(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    assert.equal((await app.call('/v1/users/u1', { method: 'PUT', body: { locale: 'en' } })).status, 201);
  });
  after(() => h.close());

  const asUser = async (secret: string) =>
    (
      await fetch(`${h.url}/v1/users/u1`, {
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': await signUserToken('u1', secret),
        },
      })
    ).status;
  const stored = async (appId: string) =>
    (
      await sql<{ current: string; previous: string | null }>(
        h.db.url,
        'SELECT user_token_secret AS current, previous_user_token_secret AS previous FROM apps WHERE id = $1',
        [appId],
      )
    )[0]!;
  const rotate = (appId: string, body: unknown) =>
    h.admin(`/admin/apps/${appId}/user-token-secret/rotate`, { method: 'POST', body: JSON.stringify(body) });

  test('the database holds the secret sealed, not in plaintext; tokens signed with it verify', async () => {
    const row = await stored(app.id);
    assert.ok(!row.current.includes(app.userTokenSecret), 'no plaintext in user_token_secret');
    assert.match(row.current, /^v1\./);
    assert.equal(await asUser(app.userTokenSecret), 200);
    assert.equal(await asUser('not-the-secret'), 401);
  });

  test('rotation: a new secret, shown once; the old one verifies during the grace window, then not', async () => {
    const first = app.userTokenSecret;
    const res = await rotate(app.id, { graceSeconds: 3600 });
    assert.equal(res.status, 201, await res.clone().text());
    const rotated = await json<{ userTokenSecret: string; previousValidUntil: string }>(res);
    assert.notEqual(rotated.userTokenSecret, first);
    const until = Date.parse(rotated.previousValidUntil) - Date.now();
    assert.ok(until > 3500_000 && until <= 3600_000, `grace ends in an hour (${until} ms)`);
    assert.equal(await asUser(rotated.userTokenSecret), 200, 'the new secret');
    assert.equal(await asUser(first), 200, 'the old one, within its grace');
    const row = await stored(app.id);
    for (const value of [row.current, row.previous ?? '']) {
      assert.match(value, /^v1\./);
      assert.ok(!value.includes(first) && !value.includes(rotated.userTokenSecret), 'both sealed');
    }

    const again = await json<{ userTokenSecret: string }>(await rotate(app.id, { graceSeconds: 0 }));
    assert.equal(await asUser(again.userTokenSecret), 200);
    assert.equal(await asUser(rotated.userTokenSecret), 401, 'no grace: the replaced secret stops at once');
    assert.equal(await asUser(first), 401, 'only one previous secret is kept');
  });

  test('rotation is admin-only and validated', async () => {
    assert.equal((await rotate(app.id, { graceSeconds: -1 })).status, 400);
    assert.equal((await rotate(app.id, { graceSeconds: 31 * 86_400 })).status, 400);
    assert.equal((await rotate(app.id, { grace: 5 })).status, 400);
    assert.equal((await rotate('01a21191-3f78-7196-87d2-22dc5a9d8763', {})).status, 404);
    const asApp = await fetch(`${h.url}/admin/apps/${app.id}/user-token-secret/rotate`, {
      method: 'POST',
      headers: { authorization: basic(app.appKey, app.appSecret), 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(asApp.status, 401);
  });

  test('a secret left in plaintext by an earlier version keeps working and is sealed by `clarion migrate`', async () => {
    const other = await h.createApp();
    const legacy = 'legacy-plaintext-user-token-secret-0123456789';
    await sql(h.db.url, 'UPDATE apps SET user_token_secret = $2 WHERE id = $1', [other.id, legacy]);
    const otherClient = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${other.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    await other.call('/v1/users/u1', { method: 'PUT', body: { locale: 'en' } });
    const asOther = async () =>
      (
        await fetch(`${h.url}/v1/users/u1`, {
          headers: {
            authorization: basic(otherClient.appKey, otherClient.appSecret),
            'x-clarion-user-token': await signUserToken('u1', legacy),
          },
        })
      ).status;
    assert.equal(await asOther(), 200);

    const run = spawnSync(process.execPath, [join(__dirname, '..', 'cli', 'main.js'), 'migrate'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: h.db.url,
        CLARION_ENCRYPTION_KEY: h.env.CLARION_ENCRYPTION_KEY,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /sealed the user-token secrets of 1 app\(s\)/);
    const row = await stored(other.id);
    assert.match(row.current, /^v1\./);
    assert.ok(!row.current.includes(legacy));
    assert.equal(await asOther(), 200, 'the same secret, now sealed');
  });
});
