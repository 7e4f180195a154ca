import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pushFakes, type Sandbox, type WebPushFake } from '@clarion/sandbox';
import { freePort } from '@clarion/testkit';
import { type Harness, startHarness, type TestApp } from '../testing/harness';
import { deliveryOf, send } from '../testing/tracking-harness';

const IOS_TOKEN = 'b2'.repeat(32);
const ANDROID_TOKEN = 'android-link-token-'.padEnd(40, 'y');
const TARGET = 'https://shop.example/orders/9?ref=push';

/**
 * Click tracking on push, through the real APNs, FCM and Web Push client libraries to their
 * sandbox fakes: the tap URL each device receives is a signed /t/ link, never the original, and
 * following it redirects to the original and records the click on that device's delivery.
 */
describe('push and web push: the tap URL is tracked end to end', () => {
  let push: Sandbox;
  let h: Harness;
  let tracking: TestApp;
  let plain: TestApp;

  before(async () => {
    const port = await freePort();
    // The harness points the plugins at these fakes (like `clarion dev`).
    h = await startHarness({
      label: 'pushlinks',
      fakes: pushFakes(),
      env: {
        PORT: String(port),
        CLARION_PUBLIC_URL: `http://127.0.0.1:${port}`,
        CLARION_PLUGINS: '@clarion/plugin-apns,@clarion/plugin-fcm,@clarion/plugin-webpush',
      },
    });
    push = h.sandbox;
    tracking = await h.createApp({ trackClicks: true });
    plain = await h.createApp();
  });

  after(async () => {
    await h?.close();
  });

  /** One user per platform, so each notification has exactly one delivery to follow. */
  const userWith = async (app: TestApp, id: string, device: Record<string, unknown>) => {
    assert.equal((await app.call(`/v1/users/${id}`, { method: 'PUT', body: { locale: 'en' } })).status, 201);
    const res = await app.call(`/v1/users/${id}/devices`, { body: device });
    assert.equal(res.status, 201, await res.text());
  };

  /** The tap URL as the device got it: APNs custom key, FCM data, Web Push payload. */
  const receivedUrl = async (provider: 'apns' | 'fcm' | 'webpush', to: string): Promise<string> => {
    const [record] = await push.recorder.waitFor(1, { provider, to, outcome: 'accepted' });
    const payload = record!.payload as { data?: { url?: string }; url?: string };
    const url = provider === 'webpush' ? payload.url : payload.data?.url;
    assert.equal(typeof url, 'string', `${provider} payload ${JSON.stringify(payload)}`);
    return url!;
  };

  test('APNs, FCM and Web Push each get a /t/ link; a tap redirects to the original and the delivery is clicked', async () => {
    const webpush = push.fake('webpush') as WebPushFake;
    const subscription = webpush.subscribe();
    const cases = [
      { provider: 'apns', user: 'ios-user', to: IOS_TOKEN, device: { platform: 'ios', token: IOS_TOKEN } },
      {
        provider: 'fcm',
        user: 'android-user',
        to: ANDROID_TOKEN,
        device: { platform: 'android', token: ANDROID_TOKEN },
      },
      {
        provider: 'webpush',
        user: 'web-user',
        to: subscription.id,
        device: {
          platform: 'web',
          subscription: { endpoint: subscription.endpoint, keys: subscription.keys },
        },
      },
    ] as const;
    for (const c of cases) {
      await userWith(tracking, c.user, c.device);
      const message = { title: 'Shipped', body: 'Your order is on its way', url: TARGET };
      const id = await send(tracking, {
        to: { userId: c.user },
        content: c.provider === 'webpush' ? { web: message } : { push: message },
      });
      const url = await receivedUrl(c.provider, c.to);
      assert.ok(url.startsWith(`${h.url}/t/`), `${c.provider}: ${url}`);
      assert.ok(!url.includes('shop.example'), `${c.provider}: the original URL is not in the message`);
      await deliveryOf(tracking, id, (d) => d.status === 'sent', `${c.provider} sent`);

      const tap = await fetch(url, { redirect: 'manual' });
      assert.equal(tap.status, 302, c.provider);
      assert.equal(tap.headers.get('location'), TARGET);
      const d = await deliveryOf(tracking, id, (x) => x.status === 'clicked', `${c.provider} clicked`);
      assert.equal(d.plugin, c.provider);
      assert.equal(d.events.at(-1)!.status, 'clicked');
    }
  });

  test('an app that does not track clicks sends the tap URL untouched', async () => {
    await userWith(plain, 'plain-android', { platform: 'android', token: `${ANDROID_TOKEN}-plain` });
    await send(plain, {
      to: { userId: 'plain-android' },
      content: { push: { title: 'Shipped', body: 'On its way', url: TARGET } },
    });
    assert.equal(await receivedUrl('fcm', `${ANDROID_TOKEN}-plain`), TARGET);
  });
});
