import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox, sendgridFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  status: string;
  reason: string | null;
  attempts: number;
  events: { status: string }[];
}

/**
 * A provider's 429 pauses the plugin's whole queue (SDK runtime: `throttled` → worker.rateLimit),
 * proved end to end: SendGrid's fake answers 429 with X-RateLimit-Reset, and a delivery to
 * someone else sent after that waits for the reset too.
 */
describe('provider throttling backs the whole plugin queue off', () => {
  let h: Harness;
  let app: TestApp;
  let sendgrid: Sandbox;

  before(async () => {
    sendgrid = await Sandbox.start({ fakes: [sendgridFake()] });
    const cfg = sendgrid.pluginConfigs().sendgrid as { apiKey: string; from: string; baseUrl: string };
    h = await startHarness({
      label: 'throttle',
      env: {
        CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-sendgrid',
        CLARION_SENDGRID_API_KEY: cfg.apiKey,
        CLARION_SENDGRID_FROM: cfg.from,
        CLARION_SENDGRID_BASE_URL: cfg.baseUrl,
        CLARION_THROTTLE_MAX_RETRIES: '3',
      },
    });
    app = await h.createApp();
    for (const u of ['amy', 'ben', 'cid'])
      await app.call(`/v1/users/${u}`, { method: 'PUT', body: { email: `${u}@example.com` } });
  });
  after(async () => {
    await h.close();
    await sendgrid.stop();
  });

  const mail = async (user: string) => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: user }, content: { email: { subject: 'hi', text: 'hello' } } },
    });
    assert.equal(res.status, 202);
    return (await json<{ id: string }>(res)).id;
  };
  const sent = (id: string) =>
    waitFor('sent', async () => {
      const d = (await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`)))
        .deliveries[0];
      return d?.status === 'sent' ? d : undefined;
    });

  test('after a 429 the next delivery, to another user, waits for the provider’s reset; the throttled one keeps its attempts', async () => {
    sendgrid.behaviors.add({
      provider: 'sendgrid',
      to: 'amy@example.com',
      fail: 'rate_limit',
      retryAfterSeconds: 2,
      times: 1,
    });
    const first = await mail('amy');
    const [throttled] = await sendgrid.recorder.waitFor(1, { to: 'amy@example.com', outcome: 'http_429' });
    const second = await mail('ben');
    const amy = await sent(first);
    await sent(second);
    const [ben] = sendgrid.recorder.list({ to: 'ben@example.com', outcome: 'accepted' });
    // X-RateLimit-Reset is whole seconds 2 s ahead: at least 1 s after the 429, nothing is sent.
    const waited = Date.parse(ben!.receivedAt) - Date.parse(throttled!.receivedAt);
    assert.ok(waited >= 900, `ben was sent ${waited} ms after the 429`);
    assert.ok(
      !amy.events.some((e) => e.status === 'retrying' || e.status === 'failed'),
      'a throttle is not a failed attempt',
    );
  });

  test('a provider answering 429 forever fails the delivery with reason `throttled` after CLARION_THROTTLE_MAX_RETRIES, each 429 counted as throttling', async () => {
    const throttledCount = async () => {
      const text = await (await fetch(`${h.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('clarion_plugin_send_attempts_total{') &&
            l.includes('plugin="sendgrid"') &&
            l.includes('result="throttled"'),
        );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await throttledCount();
    sendgrid.behaviors.add({
      provider: 'sendgrid',
      to: 'cid@example.com',
      fail: 'rate_limit',
      retryAfterSeconds: 0,
    });
    const id = await mail('cid');
    const failed = await waitFor('failed', async () => {
      const d = (await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`)))
        .deliveries[0];
      return d?.status === 'failed' ? d : undefined;
    });
    assert.equal(failed.reason, 'throttled');
    // Three throttles waited out, the fourth 429 ends it: four requests, no more.
    assert.equal(sendgrid.recorder.list({ to: 'cid@example.com', outcome: 'http_429' }).length, 4);
    assert.equal((await throttledCount()) - before, 4);
  });
});
