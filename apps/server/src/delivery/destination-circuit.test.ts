import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateVapidKeys } from '@clarion/plugin-webpush';
import { type WebPushFake, webPushFake } from '@clarion/sandbox';
import { freePort, waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  notificationId: string;
  channel: string;
  status: string;
  events: { status: string }[];
}

/**
 * Webhook and Web Push destinations are chosen by tenants and their users: one user's dead
 * receiver and refusing push subscriptions open only their own circuits, never the plugin's, and
 * say nothing about the server's readiness.
 */
describe('circuit breakers per destination for address-chosen plugins', () => {
  let h: Harness;
  let a: TestApp;
  let b: TestApp;
  let push: WebPushFake;

  before(async () => {
    push = webPushFake();
    h = await startHarness({
      label: 'destcircuit',
      fakes: [push],
      env: {
        CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-webpush',
        CLARION_CIRCUIT_FAILURE_THRESHOLD: '2',
        CLARION_CIRCUIT_WINDOW_MS: '60000',
        // A circuit shared by the plugin would hold every webhook delivery for a minute.
        CLARION_CIRCUIT_COOLDOWN_MS: '60000',
      },
    });
    a = await h.createApp();
    b = await h.createApp();
  });
  after(async () => {
    await h?.close();
  });

  test("one user's failing destinations do not delay another app's webhooks; /readyz stays 200", async () => {
    const deadPort = await freePort();
    const put = await a.call('/v1/users/mallory', {
      method: 'PUT',
      body: { webhookUrl: `http://127.0.0.1:${deadPort}/hook` },
    });
    assert.equal(put.status, 201);
    // One subscription made with another app's VAPID key (the push service answers 403), one whose
    // push service is down (503).
    const refusing = push.subscribe({ applicationServerKey: generateVapidKeys().publicKey });
    const down = push.subscribe();
    h.sandbox.behaviors.add({ provider: 'webpush', to: down.id, fail: '503', times: 1000 });
    for (const s of [refusing, down]) {
      const res = await a.call('/v1/users/mallory/devices', {
        body: { platform: 'web', subscription: { endpoint: s.endpoint, keys: s.keys } },
      });
      assert.equal(res.status, 201, await res.text());
    }
    const content = { webhook: { json: { n: 1 } }, web: { title: 'Hi', body: 'there' } };
    for (let i = 0; i < 3; i += 1) {
      const res = await a.call('/v1/notifications', { body: { to: { userId: 'mallory' }, content } });
      assert.equal(res.status, 202, await res.text());
    }
    await waitFor('the dead receiver and the push service failing for mallory', async () => {
      const { deliveries } = await json<{ deliveries: Delivery[] }>(
        await a.call('/v1/users/mallory/deliveries'),
      );
      const retried = (channel: string) =>
        deliveries.filter((d) => d.channel === channel && d.events.some((e) => e.status === 'retrying'))
          .length;
      const refused = deliveries.filter((d) => d.channel === 'web' && d.status === 'failed').length;
      // Both subscriptions share the sandbox's origin: once its circuit opens, the rest wait there.
      return retried('webhook') >= 2 && retried('web') >= 2 && refused >= 1;
    });

    assert.equal(
      (await b.call('/v1/users/bob', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/bob` } }))
        .status,
      201,
    );
    const sent = await json<{ id: string }>(
      await b.call('/v1/notifications', {
        body: { to: { userId: 'bob' }, content: { webhook: { json: { n: 2 } } } },
      }),
    );
    await waitFor(
      "the other app's webhook delivery sent",
      async () => {
        const { deliveries } = await json<{ deliveries: Delivery[] }>(
          await b.call('/v1/users/bob/deliveries'),
        );
        return deliveries.find((d) => d.notificationId === sent.id && d.status === 'sent');
      },
      { timeoutMs: 20_000 },
    );
    assert.equal(h.sandbox.recorder.list({ to: 'bob' }).length, 1);

    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
  });
});
