import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pushFakes, type Sandbox, type WebPushFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  channel: string;
  plugin: string;
  status: string;
  reason: string | null;
}
interface Device {
  platform: string;
  disabled: boolean;
  disabledReason: string | null;
}

const IOS_TOKEN = 'a1'.repeat(32);
const ANDROID_TOKEN = 'android-token-'.padEnd(40, 'x');

/**
 * "Token invalidation disables the device", through the whole server: APNs answers
 * Unregistered, FCM UNREGISTERED, the Web Push service 410 Gone; each delivery fails as
 * invalid_address, the device is disabled, and the next notification does not try it again.
 */
describe('push: a provider saying the address is dead disables that device', () => {
  let push: Sandbox;
  let h: Harness;
  let app: TestApp;

  before(async () => {
    // The harness points the plugins at these fakes (like `clarion dev`).
    h = await startHarness({
      label: 'invalid',
      fakes: pushFakes(),
      env: { CLARION_PLUGINS: '@clarion/plugin-apns,@clarion/plugin-fcm,@clarion/plugin-webpush' },
    });
    push = h.sandbox;
    app = await h.createApp();
  });

  after(async () => {
    await h?.close();
  });

  test('APNs Unregistered, FCM UNREGISTERED and Web Push 410 each disable their device; the next notification skips them', async () => {
    const webpush = push.fake('webpush') as WebPushFake;
    const subscription = webpush.subscribe();
    assert.equal((await app.call('/v1/users/ana', { method: 'PUT', body: { locale: 'en' } })).status, 201);
    for (const device of [
      { platform: 'ios', token: IOS_TOKEN },
      { platform: 'android', token: ANDROID_TOKEN },
      { platform: 'web', subscription: { endpoint: subscription.endpoint, keys: subscription.keys } },
    ]) {
      const res = await app.call('/v1/users/ana/devices', { body: device });
      assert.equal(res.status, 201, await res.text());
    }
    push.behaviors.add({ provider: 'apns', to: IOS_TOKEN, fail: 'Unregistered' });
    push.behaviors.add({ provider: 'fcm', to: ANDROID_TOKEN, fail: 'UNREGISTERED' });
    webpush.unsubscribe(subscription.id);

    const content = {
      push: { title: 'Hi', body: 'Your order shipped' },
      web: { title: 'Hi', body: 'Your order shipped' },
    };
    const first = await json<{ id: string; deliveries: number }>(
      await app.call('/v1/notifications', { body: { to: { userId: 'ana' }, content } }),
    );
    assert.equal(first.deliveries, 3);
    const deliveries = await waitFor('three final push deliveries', async () => {
      const body = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${first.id}`));
      return body.deliveries.every((d) => d.status === 'failed') ? body.deliveries : null;
    });
    assert.deepEqual(deliveries.map((d) => `${d.plugin}:${d.reason}`).sort(), [
      'apns:invalid_address',
      'fcm:invalid_address',
      'webpush:invalid_address',
    ]);

    const user = await waitFor('devices disabled', async () => {
      const body = await json<{ devices: Device[] }>(await app.call('/v1/users/ana'));
      return body.devices.every((d) => d.disabled) ? body : null;
    });
    assert.equal(user.devices.length, 3);
    for (const d of user.devices) assert.ok(d.disabledReason, `${d.platform} has a reason`);

    const sentBefore = push.recorder.count({ outcome: 'accepted' });
    const second = await json<{ deliveries: number; suppressed: number }>(
      await app.call('/v1/notifications', { body: { to: { userId: 'ana' }, content } }),
    );
    assert.equal(second.deliveries, 0, 'no delivery goes to a disabled device');
    assert.equal(second.suppressed, 2, 'push and web are suppressed for want of a contact');
    assert.equal(push.recorder.count({ outcome: 'accepted' }), sentBefore);

    // The app reinstalls and registers the same token again: the device is live again.
    assert.equal(
      (await app.call('/v1/users/ana/devices', { body: { platform: 'ios', token: IOS_TOKEN } })).status,
      200,
    );
    push.behaviors.clear('apns');
    const third = await json<{ id: string; deliveries: number }>(
      await app.call('/v1/notifications', { body: { to: { userId: 'ana' }, content, channels: ['push'] } }),
    );
    assert.equal(third.deliveries, 1);
    await push.recorder.waitFor(1, { provider: 'apns', outcome: 'accepted' });
  });

  test('a configuration error (APNs InvalidProviderToken) fails the delivery and marks the plugin unhealthy on /readyz and in metrics until a send succeeds', async () => {
    const token = 'b2'.repeat(32);
    assert.equal((await app.call('/v1/users/ben', { method: 'PUT', body: {} })).status, 201);
    assert.equal((await app.call('/v1/users/ben/devices', { body: { platform: 'ios', token } })).status, 201);
    push.behaviors.add({ provider: 'apns', to: token, fail: 'InvalidProviderToken', times: 1 });
    const content = { push: { title: 'Hi', body: 'there' } };
    const first = await json<{ id: string }>(
      await app.call('/v1/notifications', { body: { to: { userId: 'ben' }, content } }),
    );
    const failed = await waitFor('configuration failure', async () => {
      const body = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${first.id}`));
      return body.deliveries[0]?.status === 'failed' ? body.deliveries[0] : null;
    });
    assert.equal(failed.reason, 'configuration');

    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 503);
    const readiness = await json<{
      details: {
        plugins: { status: string; plugins: Record<string, { healthy: boolean; reason?: string }> };
      };
    }>(ready);
    assert.equal(readiness.details.plugins.status, 'down');
    assert.equal(readiness.details.plugins.plugins.apns?.healthy, false);
    assert.match(readiness.details.plugins.plugins.apns?.reason ?? '', /InvalidProviderToken/);
    assert.match(
      await (await fetch(`${h.url}/metrics`)).text(),
      /clarion_plugin_healthy\{plugin="apns"[^}]*\} 0/,
    );

    // The operator fixes the key; the next send succeeds and the plugin is healthy again.
    await app.call('/v1/notifications', { body: { to: { userId: 'ben' }, content } });
    await waitFor('ready again', async () => (await fetch(`${h.url}/readyz`)).status === 200);
    assert.match(
      await (await fetch(`${h.url}/metrics`)).text(),
      /clarion_plugin_healthy\{plugin="apns"[^}]*\} 1/,
    );
  });
});
