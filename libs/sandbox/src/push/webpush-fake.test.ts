import assert from 'node:assert/strict';
import { createECDH, createPrivateKey, sign } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { httpsPost } from './test-https';
import { vapidTestKeys, type WebPushFake, webPushFake } from './webpush-fake';

/** A VAPID header signed by hand with a raw P-256 private key. */
function vapid(
  keys: { publicKey: string; privateKey: string },
  aud: string,
  exp = Math.floor(Date.now() / 1000) + 3600,
  sub = 'mailto:a@example.com',
) {
  const pub = Buffer.from(keys.publicKey, 'base64url');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: keys.privateKey,
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33).toString('base64url'),
  };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ typ: 'JWT', alg: 'ES256' })}.${b64({ aud, exp, sub })}`;
  const sig = sign('sha256', Buffer.from(input), {
    key: createPrivateKey({ key: jwk, format: 'jwk' }),
    dsaEncoding: 'ieee-p1363',
  });
  return `vapid t=${input}.${sig.toString('base64url')}, k=${keys.publicKey}`;
}

describe('sandbox Web Push service', () => {
  let sb: Sandbox;
  let fake: WebPushFake;
  const keys = vapidTestKeys();
  before(async () => {
    fake = webPushFake();
    sb = await Sandbox.start({ fakes: [fake] });
  });
  after(async () => {
    await sb.stop();
  });
  const post = async (endpoint: string, headers: Record<string, string>, body = Buffer.alloc(0)) => {
    return httpsPost(endpoint, { ca: fake.caPem(), headers, body });
  };

  test('another process subscribes over HTTP (POST /_sandbox/webpush/subscriptions) and receives pushes there', async () => {
    const res = await fetch(`${sb.url}/_sandbox/webpush/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ applicationServerKey: keys.publicKey }),
    });
    assert.equal(res.status, 201);
    const sub = (await res.json()) as {
      id: string;
      endpoint: string;
      keys: { p256dh: string; auth: string };
    };
    assert.equal(sub.endpoint, `${fake.origin()}/push/${sub.id}`);
    assert.equal(Buffer.from(sub.keys.p256dh, 'base64url').length, 65);
    assert.equal(
      (await post(sub.endpoint, { authorization: vapid(keys, fake.origin()), ttl: '60' })).status,
      201,
    );
  });

  test('a valid VAPID push without payload is accepted (201)', async () => {
    const sub = fake.subscribe({ applicationServerKey: keys.publicKey });
    assert.equal(
      (await post(sub.endpoint, { authorization: vapid(keys, fake.origin()), ttl: '60' })).status,
      201,
    );
  });

  test('rejects a missing or forged VAPID JWT, a wrong audience, a long expiry, a foreign key', async () => {
    const sub = fake.subscribe({ applicationServerKey: keys.publicKey });
    assert.equal((await post(sub.endpoint, { ttl: '60' })).status, 401);
    // Signed by another key while naming the subscription's key (Node refuses a JWK whose halves differ).
    const stranger = vapidTestKeys();
    const forged = vapid(stranger, fake.origin()).replace(`k=${stranger.publicKey}`, `k=${keys.publicKey}`);
    assert.equal((await post(sub.endpoint, { authorization: forged, ttl: '60' })).status, 401);
    assert.equal(
      (await post(sub.endpoint, { authorization: vapid(keys, 'https://elsewhere.example'), ttl: '60' }))
        .status,
      401,
    );
    assert.equal(
      (
        await post(sub.endpoint, {
          authorization: vapid(keys, fake.origin(), Math.floor(Date.now() / 1000) + 48 * 3600),
          ttl: '60',
        })
      ).status,
      401,
    );
    const other = vapidTestKeys();
    assert.equal(
      (await post(sub.endpoint, { authorization: vapid(other, fake.origin()), ttl: '60' })).status,
      403,
    );
  });

  test('requires TTL, refuses a body over 4096 bytes, a bad encoding and undecryptable content', async () => {
    const sub = fake.subscribe();
    const auth = vapid(keys, fake.origin());
    assert.equal((await post(sub.endpoint, { authorization: auth })).status, 400);
    assert.equal(
      (
        await post(
          sub.endpoint,
          { authorization: auth, ttl: '60', 'content-encoding': 'aes128gcm' },
          Buffer.alloc(5000),
        )
      ).status,
      413,
    );
    assert.equal(
      (
        await post(
          sub.endpoint,
          { authorization: auth, ttl: '60', 'content-encoding': 'aesgcm' },
          Buffer.alloc(100),
        )
      ).status,
      415,
    );
    // A well-formed header around garbage: the fake cannot decrypt it, so neither could the browser.
    const header = Buffer.alloc(86);
    header.writeUInt32BE(4096, 16);
    header[20] = 65;
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.getPublicKey().copy(header, 21);
    const res = await post(
      sub.endpoint,
      { authorization: auth, ttl: '60', 'content-encoding': 'aes128gcm' },
      Buffer.concat([header, Buffer.alloc(40, 7)]),
    );
    assert.equal(res.status, 400);
    assert.match(res.text, /tag mismatch/);
  });

  test('404 for an unknown endpoint, 410 after unsubscribe, rule-driven 429 with Retry-After', async () => {
    const auth = vapid(keys, fake.origin());
    assert.equal(
      (await post(`${fake.origin()}/push/unknown`, { authorization: auth, ttl: '60' })).status,
      404,
    );
    const sub = fake.subscribe();
    fake.unsubscribe(sub.id);
    assert.equal((await post(sub.endpoint, { authorization: auth, ttl: '60' })).status, 410);
    const live = fake.subscribe();
    sb.behaviors.add({ provider: 'webpush', to: live.id, fail: '429', retryAfterSeconds: 3, times: 1 });
    const limited = await post(live.endpoint, { authorization: auth, ttl: '60' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '3');
  });
});
