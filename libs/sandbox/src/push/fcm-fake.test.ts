import assert from 'node:assert/strict';
import { createPrivateKey, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { type FcmFake, fcmFake, fcmTestServiceAccount } from './fcm-fake';
import { httpsPost } from './test-https';

describe('sandbox FCM', () => {
  let sb: Sandbox;
  let fake: FcmFake;
  const account = fcmTestServiceAccount('proj-a');
  before(async () => {
    fake = fcmFake({
      accounts: [
        { projectId: 'proj-a', clientEmail: account.json.client_email, publicKeyPem: account.publicKeyPem },
      ],
    });
    sb = await Sandbox.start({ fakes: [fake] });
  });
  after(async () => {
    await sb.stop();
  });
  const assertion = (key = account.json.private_key, claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: account.json.client_email, scope: 'https://www.googleapis.com/auth/firebase.messaging', aud: 'https://oauth2.googleapis.com/token', iat: now, exp: now + 3600, ...claims })}`;
    return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey(key)).toString('base64url')}`;
  };
  const tokenFor = async (jwt: string) => {
    const res = await httpsPost(`${fake.baseUrl()}/token`, {
      ca: fake.caPem(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: jwt,
      }).toString(),
    });
    return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
  };
  const send = async (accessToken: string, body: unknown, project = 'proj-a') => {
    const res = await httpsPost(`${fake.baseUrl()}/v1/projects/${project}/messages:send`, {
      ca: fake.caPem(),
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: JSON.parse(res.text) as {
        name?: string;
        error?: { status: string; details?: { errorCode?: string; fieldViolations?: { field: string }[] }[] };
      },
    };
  };
  const token = 'abcdefghijk:APA91bHPRgkF3JUikC4ENAHEeMrd41Zxv3hVZjC9KtT8OvPVGJ';

  test('issues an access token only for an assertion signed by a registered account', async () => {
    assert.equal((await tokenFor(assertion())).status, 200);
    const stranger = fcmTestServiceAccount('proj-a');
    const bad = await tokenFor(assertion(stranger.json.private_key));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    assert.equal((await tokenFor(assertion(undefined, { aud: 'https://evil' }))).status, 400);
  });

  test('requires a valid bearer for the right project', async () => {
    const at = String((await tokenFor(assertion())).body.access_token);
    assert.equal((await send('nonsense', { message: { token } })).status, 401);
    assert.equal((await send(at, { message: { token } }, 'proj-b')).status, 403);
    const ok = await send(at, { message: { token, notification: { title: 'hi' } } });
    assert.equal(ok.status, 200);
    assert.match(ok.body.name ?? '', /^projects\/proj-a\/messages\//);
  });

  test('validates the HTTP v1 body: string data, enums, ttl, targets, unknown fields, size, token', async () => {
    const at = String((await tokenFor(assertion())).body.access_token);
    const bad = async (message: unknown) => {
      const res = await send(at, { message });
      assert.equal(res.status, 400, JSON.stringify(message).slice(0, 80));
      return res.body.error?.details?.find((d) => d.fieldViolations)?.fieldViolations?.[0]?.field;
    };
    assert.equal(await bad({ token, data: { n: 1 } }), 'message.data[n]');
    assert.equal(await bad({ token, android: { priority: 'URGENT' } }), 'message.android.priority');
    assert.equal(await bad({ token, android: { ttl: '10' } }), 'message.android.ttl');
    assert.equal(await bad({ token, topic: 'news' }), 'message');
    assert.equal(await bad({ token, colour: 'red' }), 'message');
    assert.equal(await bad({ token, data: { big: 'x'.repeat(5000) } }), 'message');
    assert.equal(await bad({ token: 'bad token!' }), 'message.token');
  });

  test('answers the FCM error a rule names, with details[].errorCode and Retry-After', async () => {
    const at = String((await tokenFor(assertion())).body.access_token);
    sb.behaviors.add({ provider: 'fcm', to: token, fail: 'UNREGISTERED', times: 1 });
    const gone = await send(at, { message: { token } });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error?.details?.[0]?.errorCode, 'UNREGISTERED');
    sb.behaviors.add({ provider: 'fcm', to: token, fail: 'QUOTA_EXCEEDED', times: 1 });
    assert.equal((await send(at, { message: { token } })).status, 429);
  });
});
