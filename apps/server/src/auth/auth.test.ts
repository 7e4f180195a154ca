import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashSecret } from '../apps/key-material';
import { countRows as counts, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { signUserToken } from './user-token';

describe('authentication and authorisation', () => {
  let h: Harness;
  let app: TestApp;
  let other: TestApp;
  const send = (
    auth: Record<string, string>,
    body: unknown = { to: { userId: 'u1' }, content: { webhook: { json: {} } } },
  ) =>
    fetch(`${h.url}/v1/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify(body),
    });

  before(async () => {
    h = await startHarness({ label: 'auth' });
    app = await h.createApp({ allowClientSending: true, clientTemplates: ['ping'] });
    other = await h.createApp();
    await app.call('/v1/users/u1', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/u1` } });
    await app.call('/v1/templates/ping', { method: 'PUT', body: { content: { webhook: { json: {} } } } });
  });
  after(() => h.close());

  const countRows = async (table: string) => (await counts(h.db.url, [table]))[table];

  test('no credentials, a wrong secret or an unknown key: 401 with the error shape, nothing written', async () => {
    const before = await countRows('notifications');
    for (const headers of [
      {} as Record<string, string>,
      { authorization: basic(app.appKey, 'cs_wrong') },
      { authorization: basic('ck_nope', app.appSecret) },
      { authorization: 'Bearer x' },
      // Not key-shaped: a NUL (it was a 500: PostgreSQL cannot compare it), a long string.
      { authorization: basic('ck_\u0000abc', app.appSecret) },
      { authorization: basic(`ck_${'x'.repeat(10_000)}`, app.appSecret) },
      { 'x-clarion-app-key': `${app.appKey}x`, 'x-clarion-app-secret': app.appSecret },
    ]) {
      const res = await send(headers);
      assert.equal(res.status, 401);
      const body = await json<{ error: { code: string; message: string } }>(res);
      assert.equal(body.error.code, 'unauthorized');
    }
    assert.equal(await countRows('notifications'), before);
  });

  test('the X-Clarion-App-Key / X-Clarion-App-Secret headers work like Basic auth', async () => {
    const res = await send({ 'x-clarion-app-key': app.appKey, 'x-clarion-app-secret': app.appSecret });
    assert.equal(res.status, 202);
  });

  test("another app cannot see this app's notifications or users", async () => {
    const { id } = await json<{ id: string }>(
      await app.call('/v1/notifications', {
        body: { to: { userId: 'u1' }, content: { webhook: { json: {} } } },
      }),
    );
    assert.equal((await other.call(`/v1/notifications/${id}`)).status, 404);
    assert.equal((await other.call('/v1/users/u1')).status, 404);
  });

  test("a revoked key is refused at once; a rotated key's old secret stops working", async () => {
    const created = await json<{ id: string; appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'server', name: 'ci' }),
      }),
    );
    assert.equal((await send({ authorization: basic(created.appKey, created.appSecret) })).status, 202);
    const rotated = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys/${created.id}/rotate`, { method: 'POST' }),
    );
    assert.equal(rotated.appKey, created.appKey);
    assert.equal((await send({ authorization: basic(created.appKey, created.appSecret) })).status, 401);
    assert.equal((await send({ authorization: basic(rotated.appKey, rotated.appSecret) })).status, 202);
    assert.equal(
      (await h.admin(`/admin/apps/${app.id}/keys/${created.id}`, { method: 'DELETE' })).status,
      204,
    );
    assert.equal((await send({ authorization: basic(rotated.appKey, rotated.appSecret) })).status, 401);
    const keys = await json<{ keys: { id: string; revokedAt: string | null; appSecret?: string }[] }>(
      await h.admin(`/admin/apps/${app.id}/keys`),
    );
    assert.ok(keys.keys.find((k) => k.id === created.id)?.revokedAt);
    assert.ok(
      keys.keys.every((k) => k.appSecret === undefined),
      'secrets are never listed',
    );
  });

  test('admin endpoints need the admin token', async () => {
    assert.equal((await fetch(`${h.url}/admin/apps`)).status, 401);
    assert.equal(
      (await fetch(`${h.url}/admin/apps`, { headers: { authorization: 'Bearer wrong-token-0123456789' } }))
        .status,
      401,
    );
    assert.equal(
      (await fetch(`${h.url}/admin/apps`, { headers: { authorization: basic(app.appKey, app.appSecret) } }))
        .status,
      401,
    );
  });

  test('server keys start sk_, client keys pk_; keys made before the split (ck_) still authenticate as their kind', async () => {
    assert.match(app.appKey, /^sk_[A-Za-z0-9_-]{24}$/);
    const made = await json<{ appKey: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    assert.match(made.appKey, /^pk_[A-Za-z0-9_-]{24}$/);
    // As an older version stored them: one server and one client key, both ck_.
    const old = (kind: string, suffix: string) => ({
      kind,
      appKey: `ck_${suffix.repeat(24)}`,
      appSecret: `cs_old_${kind}_secret_${'s'.repeat(30)}`,
    });
    const oldServer = old('server', 'S');
    const oldClient = old('client', 'C');
    for (const k of [oldServer, oldClient])
      await sql(
        h.db.url,
        'INSERT INTO api_keys (id, app_id, kind, name, app_key, secret_hash) VALUES (gen_random_uuid(), $1, $2, $3, $4, $5)',
        [app.id, k.kind, 'legacy', k.appKey, hashSecret(k.appSecret)],
      );
    assert.equal((await send({ authorization: basic(oldServer.appKey, oldServer.appSecret) })).status, 202);
    const asOldClient = await fetch(`${h.url}/v1/users/u1`, {
      headers: {
        authorization: basic(oldClient.appKey, oldClient.appSecret),
        'x-clarion-user-token': await signUserToken('u1', app.userTokenSecret),
      },
    });
    assert.equal(asOldClient.status, 200, 'an old client key works for its user');
    const serverOnly = await fetch(`${h.url}/v1/templates`, {
      headers: {
        authorization: basic(oldClient.appKey, oldClient.appSecret),
        'x-clarion-user-token': await signUserToken('u1', app.userTokenSecret),
      },
    });
    assert.equal(serverOnly.status, 403, 'and is still a client key');
    assert.equal(
      (await send({ authorization: basic(`xk_${'S'.repeat(24)}`, oldServer.appSecret) })).status,
      401,
      'other prefixes are refused',
    );
  });

  describe('client keys', () => {
    let client: { appKey: string; appSecret: string };
    before(async () => {
      client = await json(
        await h.admin(`/admin/apps/${app.id}/keys`, {
          method: 'POST',
          body: JSON.stringify({ kind: 'client' }),
        }),
      );
    });
    const asClient = async (
      path: string,
      method: string,
      body: unknown,
      user: string | null,
      secret = app.userTokenSecret,
    ) =>
      fetch(`${h.url}${path}`, {
        method,
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'content-type': 'application/json',
          ...(user ? { 'x-clarion-user-token': await signUserToken(user, secret) } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    test('need a user token signed with the app secret', async () => {
      assert.equal((await asClient('/v1/users/u1', 'GET', undefined, null)).status, 401);
      assert.equal((await asClient('/v1/users/u1', 'GET', undefined, 'u1', 'not-the-secret')).status, 401);
      assert.equal((await asClient('/v1/users/u1', 'GET', undefined, 'u1')).status, 200);
    });

    test("may register the signed-in user's devices, not another user's", async () => {
      const device = { platform: 'android', token: 'fcm-token-abcdefghijklmnopqrstuvwxyz' };
      assert.equal((await asClient('/v1/users/u1/devices', 'POST', device, 'u1')).status, 201);
      assert.equal((await asClient('/v1/users/u2/devices', 'POST', device, 'u1')).status, 403);
    });

    test("may set the signed-in user's locale, but not a webhook URL (the server would post wherever it names)", async () => {
      assert.equal((await asClient('/v1/users/u1', 'PUT', { locale: 'pt-BR' }, 'u1')).status, 200);
      const before = await json<{ webhookUrl: string | null }>(await app.call('/v1/users/u1'));
      for (const webhookUrl of ['http://169.254.169.254/latest/meta-data', null]) {
        const res = await asClient('/v1/users/u1', 'PUT', { locale: 'en', webhookUrl }, 'u1');
        assert.equal(res.status, 403);
        assert.match((await json<{ error: { message: string } }>(res)).error.message, /webhookUrl/);
      }
      const user = await json<{ locale: string; webhookUrl: string | null }>(await app.call('/v1/users/u1'));
      assert.deepEqual(
        [user.locale, user.webhookUrl],
        ['pt-BR', before.webhookUrl],
        'the refused calls changed nothing',
      );
    });

    test('may not use server-only endpoints', async () => {
      assert.equal((await asClient('/v1/users/u1', 'DELETE', undefined, 'u1')).status, 403);
    });

    test('may send only to the signed-in user, and only where the app allows it', async () => {
      const body = { to: { userId: 'u1' }, template: 'ping' };
      assert.equal((await asClient('/v1/notifications', 'POST', body, 'u1')).status, 202);
      assert.equal(
        (await asClient('/v1/notifications', 'POST', { ...body, to: { userId: 'u2' } }, 'u1')).status,
        403,
      );
      const otherClient = await json<{ appKey: string; appSecret: string }>(
        await h.admin(`/admin/apps/${other.id}/keys`, {
          method: 'POST',
          body: JSON.stringify({ kind: 'client' }),
        }),
      );
      const res = await fetch(`${h.url}/v1/notifications`, {
        method: 'POST',
        headers: {
          authorization: basic(otherClient.appKey, otherClient.appSecret),
          'content-type': 'application/json',
          'x-clarion-user-token': await signUserToken('u1', other.userTokenSecret),
        },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 403, 'the other app does not allow client sending');
    });
  });
});
