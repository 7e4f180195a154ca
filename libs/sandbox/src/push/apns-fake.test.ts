import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, sign } from 'node:crypto';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { type ApnsFake, apnsFake, apnsTestKey, SANDBOX_APNS_TOPIC } from './apns-fake';

/** Signs an APNs provider token by hand (ES256, raw r||s), so the fake is tested without the plugin. */
function providerToken(
  keyPem: string,
  kid: string,
  iss: string,
  iat = Math.floor(Date.now() / 1000),
): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'ES256', kid })}.${b64({ iss, iat })}`;
  const sig = sign('sha256', Buffer.from(input), {
    key: createPrivateKey(keyPem),
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${sig.toString('base64url')}`;
}

describe('sandbox APNs', () => {
  let sb: Sandbox;
  let fake: ApnsFake;
  let session: http2.ClientHttp2Session;
  const key = apnsTestKey('TESTKEY001', 'TESTTEAM01');
  before(async () => {
    fake = apnsFake({
      keys: [
        { keyId: key.keyId, teamId: key.teamId, publicKey: key.publicKeyPem, topics: [SANDBOX_APNS_TOPIC] },
      ],
    });
    sb = await Sandbox.start({ fakes: [fake] });
    session = http2.connect(`https://127.0.0.1:${fake.port()}`, { ca: fake.caPem() });
  });
  after(async () => {
    session.close();
    await sb.stop();
  });
  const post = (headers: Record<string, string>, body: string, token = randomBytes(32).toString('hex')) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': `/3/device/${token}`, ...headers });
      let status = 0;
      let text = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => resolve({ status, body: text }));
      req.on('error', reject);
      req.end(body);
    });
  const ok = () => ({
    authorization: `bearer ${providerToken(key.privateKeyPem, key.keyId, key.teamId)}`,
    'apns-topic': SANDBOX_APNS_TOPIC,
    'apns-push-type': 'alert',
  });
  const aps = JSON.stringify({ aps: { alert: { title: 't', body: 'b' } } });

  test('accepts a correctly signed request over HTTP/2 + TLS', async () => {
    const res = await post(ok(), aps);
    assert.equal(res.status, 200);
  });

  test('rejects a token signed by another key, a wrong team, a missing or stale token', async () => {
    const other = apnsTestKey(key.keyId, key.teamId);
    assert.deepEqual(
      JSON.parse(
        (
          await post(
            { ...ok(), authorization: `bearer ${providerToken(other.privateKeyPem, key.keyId, key.teamId)}` },
            aps,
          )
        ).body,
      ),
      { reason: 'InvalidProviderToken' },
    );
    assert.equal(
      JSON.parse(
        (
          await post(
            { ...ok(), authorization: `bearer ${providerToken(key.privateKeyPem, key.keyId, 'OTHERTEAM')}` },
            aps,
          )
        ).body,
      ).reason,
      'UnrelatedKeyIdInToken',
    );
    const { authorization: _a, ...noAuth } = ok();
    assert.equal(JSON.parse((await post(noAuth, aps)).body).reason, 'MissingProviderToken');
    const stale = providerToken(
      key.privateKeyPem,
      key.keyId,
      key.teamId,
      Math.floor(Date.now() / 1000) - 7200,
    );
    assert.equal(
      JSON.parse((await post({ ...ok(), authorization: `bearer ${stale}` }, aps)).body).reason,
      'ExpiredProviderToken',
    );
  });

  test('checks topic, push type, priority, device token and payload size like Apple', async () => {
    const reason = async (headers: Record<string, string>, body = aps, token?: string) => {
      const res = await post(headers, body, token);
      return `${res.status} ${JSON.parse(res.body).reason}`;
    };
    assert.equal(await reason({ ...ok(), 'apns-topic': 'com.other.app' }), '400 TopicDisallowed');
    assert.equal(await reason({ ...ok(), 'apns-push-type': 'shout' }), '400 InvalidPushType');
    assert.equal(
      await reason({ ...ok(), 'apns-push-type': 'background', 'apns-priority': '10' }),
      '400 BadPriority',
    );
    assert.equal(await reason(ok(), aps, 'nothex'), '400 BadDeviceToken');
    assert.equal(await reason(ok(), ''), '400 PayloadEmpty');
    assert.equal(
      await reason(ok(), JSON.stringify({ aps: { alert: 'x'.repeat(4100) } })),
      '413 PayloadTooLarge',
    );
  });

  test('answers 410 Unregistered with a timestamp when told to, and counts connections', async () => {
    const token = randomBytes(32).toString('hex');
    sb.behaviors.add({ provider: 'apns', to: token, fail: 'Unregistered', times: 1 });
    const res = await post(ok(), aps, token);
    assert.equal(res.status, 410);
    const body = JSON.parse(res.body) as { reason: string; timestamp: number };
    assert.equal(body.reason, 'Unregistered');
    assert.ok(Math.abs(body.timestamp - Date.now()) < 5000);
    assert.equal(fake.connections(), 1);
  });
});
