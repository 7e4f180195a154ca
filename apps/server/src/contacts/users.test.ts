import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

/** Keys a browser would give: a P-256 point and a 16-byte auth secret. */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

interface UserView {
  userId: string;
  email: string | null;
  phone: string | null;
  devices: { id: string; platform: string; token: string; disabled: boolean }[];
  topics: string[];
}

describe('users, devices and topics', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'users' });
    app = await h.createApp();
  });
  after(() => h.close());

  const token = 'a1b2c3d4'.repeat(8);

  test('PUT creates, then updates only the fields given; null clears', async () => {
    let res = await app.call('/v1/users/bob', {
      method: 'PUT',
      body: { email: 'Bob@Example.com', phone: '+14155550100', locale: 'pt-BR', timezone: 'Europe/Lisbon' },
    });
    assert.equal(res.status, 201);
    res = await app.call('/v1/users/bob', {
      method: 'PUT',
      body: { phone: null, attributes: { plan: 'pro' } },
    });
    assert.equal(res.status, 200, 'an update answers 200');
    const user = await json<UserView & { locale: string; attributes: Record<string, unknown> }>(res);
    assert.equal(user.email, 'bob@example.com');
    assert.equal(user.phone, null);
    assert.equal(user.locale, 'pt-BR');
    assert.deepEqual(user.attributes, { plan: 'pro' });
  });

  test('registering a device twice is one device (201 then 200)', async () => {
    const first = await app.call('/v1/users/bob/devices', { body: { platform: 'ios', token } });
    const second = await app.call('/v1/users/bob/devices', { body: { platform: 'ios', token } });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal((await json<{ id: string }>(first)).id, (await json<{ id: string }>(second)).id);
    const bob = await json<UserView>(await app.call('/v1/users/bob'));
    assert.equal(bob.devices.length, 1);
    assert.ok(!bob.devices[0]!.token.includes(token), 'the full token is not echoed back');
  });

  test('a token registered by another user moves to them (a shared phone changes hands)', async () => {
    await app.call('/v1/users/carol/devices', { body: { platform: 'ios', token } });
    const bob = await json<UserView>(await app.call('/v1/users/bob'));
    const carol = await json<UserView>(await app.call('/v1/users/carol'));
    assert.equal(bob.devices.length, 0);
    assert.equal(carol.devices.length, 1);
    const rows = await sql(h.db.url, `SELECT count(*)::int AS n FROM contacts WHERE address = $1`, [token]);
    assert.equal(rows[0]!.n, 1);
  });

  test('a re-registered token that was disabled is enabled again', async () => {
    await sql(
      h.db.url,
      `UPDATE contacts SET disabled_at = now(), disabled_reason = 'unregistered' WHERE address = $1`,
      [token],
    );
    await app.call('/v1/users/carol/devices', { body: { platform: 'ios', token } });
    const carol = await json<UserView>(await app.call('/v1/users/carol'));
    assert.equal(carol.devices[0]!.disabled, false);
  });

  test('web push subscriptions are devices of platform web, keyed by endpoint', async () => {
    const subscription = {
      endpoint: 'https://push.example.com/send/abc',
      keys: browserKeys(),
    };
    assert.equal(
      (await app.call('/v1/users/carol/devices', { body: { platform: 'web', subscription } })).status,
      201,
    );
    assert.equal(
      (await app.call('/v1/users/carol/devices', { body: { platform: 'web', subscription } })).status,
      200,
    );
    const carol = await json<UserView>(await app.call('/v1/users/carol'));
    assert.deepEqual(carol.devices.map((d) => d.platform).sort(), ['ios', 'web']);
  });

  test('removing a device', async () => {
    const carol = await json<UserView>(await app.call('/v1/users/carol'));
    const web = carol.devices.find((d) => d.platform === 'web')!;
    assert.equal((await app.call(`/v1/users/carol/devices/${web.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await app.call(`/v1/users/carol/devices/${web.id}`, { method: 'DELETE' })).status, 404);
  });

  test('topics: subscribe (idempotent), list, unsubscribe', async () => {
    assert.equal((await app.call('/v1/users/carol/topics/news', { method: 'PUT' })).status, 204);
    assert.equal((await app.call('/v1/users/carol/topics/news', { method: 'PUT' })).status, 204);
    assert.deepEqual((await json<UserView>(await app.call('/v1/users/carol'))).topics, ['news']);
    assert.equal((await app.call('/v1/users/carol/topics/news', { method: 'DELETE' })).status, 204);
    assert.deepEqual((await json<UserView>(await app.call('/v1/users/carol'))).topics, []);
  });

  test('deleting a user erases their contacts and subscriptions', async () => {
    await app.call('/v1/users/carol/topics/news', { method: 'PUT' });
    assert.equal((await app.call('/v1/users/carol', { method: 'DELETE' })).status, 204);
    assert.equal((await app.call('/v1/users/carol')).status, 404);
    const left = await sql(
      h.db.url,
      `SELECT (SELECT count(*)::int FROM contacts WHERE address = $1) AS contacts, (SELECT count(*)::int FROM topic_subscriptions) AS subs`,
      [token],
    );
    assert.deepEqual(left[0], { contacts: 0, subs: 0 });
  });
});
