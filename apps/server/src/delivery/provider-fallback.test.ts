import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DeliveryJob, deliveryJobOptions, pluginQueueName } from '@clarion/plugin-sdk';
import { twilioFake, vonageFake } from '@clarion/sandbox';
import { testRedis, waitFor, waitForJobCompleted } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { jobSql } from '../deliveries/store/stored-job';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Event {
  status: string;
  detail: Record<string, unknown> | null;
}
interface Delivery {
  id: string;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  events: Event[];
}
interface NotificationView {
  deliveries: Delivery[];
}

const SMS_PLUGINS = '@clarion/plugin-webhook,@clarion/plugin-twilio,@clarion/plugin-vonage';

async function sendSms(app: TestApp, userId: string, text: string): Promise<string> {
  const res = await app.call('/v1/notifications', { body: { to: { userId }, content: { sms: { text } } } });
  assert.equal(res.status, 202, await res.clone().text());
  return (await json<{ id: string }>(res)).id;
}

async function finalDelivery(app: TestApp, id: string, timeoutMs = 30_000): Promise<Delivery> {
  return waitFor(
    `notification ${id} to end`,
    async () => {
      const view = await json<NotificationView>(await app.call(`/v1/notifications/${id}`));
      const d = view.deliveries[0];
      return d && ['sent', 'failed', 'expired'].includes(d.status) ? d : undefined;
    },
    { timeoutMs },
  );
}

/**
 * The history (it starts at `pending`) without `queued`: the request path stores a delivery
 * `queued`, but after a reroute the enqueuer marks the row queued after addBulk, and a fast
 * worker can record its outcome first.
 */
const statuses = (d: Delivery) => d.events.map((e) => e.status).filter((s) => s !== 'queued');

const vonageTo = (phone: string) => phone.replace(/^\+/, '');

describe('provider fallback: twilio → vonage through the sandbox fakes', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'fallback',
      fakes: [twilioFake(), vonageFake()],
      // High threshold: this suite is about the retry budget, not the circuit.
      env: {
        CLARION_PLUGINS: SMS_PLUGINS,
        CLARION_FALLBACK_AFTER_ATTEMPTS: '2',
        CLARION_CIRCUIT_FAILURE_THRESHOLD: '100',
      },
    });
    app = await h.createApp({ providers: { sms: ['twilio', 'vonage'] } });
  });
  after(() => h.close());
  /** Bob's delivery and its job as enqueued for twilio (the first test reads it before the send). */
  let bobRow: { id: string; job: DeliveryJob } | undefined;

  test('twilio failing on its side: after the retry budget the delivery is sent by vonage, and says so', async () => {
    const phone = '+14155550101';
    assert.equal((await app.call('/v1/users/bob', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: 'server_error' });
    const id = await sendSms(app, 'bob', 'Your code is 123456');
    // Read while twilio is still failing (the retry waits its backoff): once sent, the row keeps no job.
    [bobRow] = await sql<{ id: string; job: DeliveryJob }>(
      h.db.url,
      `SELECT d.id, ${jobSql('d')} AS job FROM deliveries d WHERE d.notification_id = $1`,
      [id],
    );
    assert.equal(bobRow?.job.plugin, 'twilio');
    const d = await finalDelivery(app, id);
    assert.equal(d.status, 'sent');
    assert.equal(d.plugin, 'vonage', 'the delivery records the provider that sent it');
    const [kept] = await sql<{ job: DeliveryJob | null }>(
      h.db.url,
      'SELECT job FROM deliveries WHERE id = $1',
      [bobRow!.id],
    );
    assert.equal(kept?.job, null, 'a sent delivery keeps no rendered job');
    // (a `queued` after the reroute can be absent when the worker answers before the enqueuer marks the row: see statuses()).
    assert.deepEqual(statuses(d), ['pending', 'retrying', 'rerouted', 'sent']);
    const rerouted = d.events.find((e) => e.status === 'rerouted')!;
    assert.equal(rerouted.detail?.plugin, 'twilio');
    assert.equal(rerouted.detail?.to, 'vonage');
    assert.equal(rerouted.detail?.cause, 'provider_failed');
    assert.equal(d.events.at(-1)!.detail?.plugin, 'vonage');
    assert.equal(d.events.at(-1)!.detail?.segments, 1, 'segments are reported on the delivery');
    assert.equal(d.events.at(-1)!.detail?.encoding, 'GSM-7');
    // Twilio was tried exactly the budget (2 attempts), vonage sent the text once.
    assert.equal(h.sandbox.recorder.count({ provider: 'twilio', to: phone }), 2);
    const [received] = await h.sandbox.recorder.waitFor(1, {
      provider: 'vonage',
      to: vonageTo(phone),
      outcome: 'accepted',
    });
    assert.equal((received!.payload as { text: string }).text, 'Your code is 123456');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(h.sandbox.recorder.count({ provider: 'vonage', to: vonageTo(phone) }), 1, 'sent once');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(
      metrics,
      /clarion_plugin_reroutes_total\{plugin="twilio",to="vonage",cause="provider_failed"[^}]*\} 1/,
    );
  });

  test('a stale copy of the twilio job running again (worker died before completing it) sends nothing and changes nothing', async () => {
    const row = bobRow;
    const original: DeliveryJob = { ...row!.job, plugin: 'twilio', fallback: ['vonage'] };
    const redis = testRedis();
    const queue = new Queue(pluginQueueName('twilio'), { connection: redis, prefix: h.prefix });
    try {
      const twilioCalls = h.sandbox.recorder.count({ provider: 'twilio' });
      const stale = await queue.add('deliver', original, {
        ...deliveryJobOptions(original, undefined),
        jobId: `${row!.id}-stale`,
      });
      await waitForJobCompleted(queue, stale.id!);
      await new Promise((r) => setTimeout(r, 300));
      const view = await json<NotificationView>(
        await app.call(`/v1/notifications/${original.notificationId}`),
      );
      const d = view.deliveries[0]!;
      assert.equal(d.status, 'sent');
      assert.equal(d.plugin, 'vonage');
      assert.equal(
        d.events.filter((e) => e.status === 'rerouted').length,
        1,
        'the repeated hand-over was ignored',
      );
      assert.equal(h.sandbox.recorder.count({ provider: 'twilio' }), twilioCalls, 'twilio not called');
      assert.equal(
        h.sandbox.recorder.count({ provider: 'vonage', to: vonageTo('+14155550101') }),
        1,
        'vonage not called again',
      );
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  test('an invalid number is not handed to the next provider: it fails and the contact is disabled', async () => {
    const phone = '+14155550102';
    assert.equal((await app.call('/v1/users/carl', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: '21211' });
    const id = await sendSms(app, 'carl', 'hello');
    const d = await finalDelivery(app, id);
    assert.equal(d.status, 'failed');
    assert.equal(d.reason, 'invalid_address');
    assert.equal(d.plugin, 'twilio');
    assert.ok(!d.events.some((e) => e.status === 'rerouted'));
    assert.equal(h.sandbox.recorder.count({ provider: 'vonage', to: vonageTo(phone) }), 0);
    const [contact] = await sql<{ disabled_at: Date | null }>(
      h.db.url,
      'SELECT disabled_at FROM contacts WHERE address = $1',
      [phone],
    );
    assert.ok(contact?.disabled_at, 'contact disabled');
  });

  test('a permanent content error is not handed to the next provider either', async () => {
    const phone = '+14155550103';
    assert.equal((await app.call('/v1/users/cleo', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: '21617' }); // body over 1,600 characters
    const id = await sendSms(app, 'cleo', 'hello');
    const d = await finalDelivery(app, id);
    assert.equal(d.status, 'failed');
    assert.equal(d.reason, 'permanent');
    assert.equal(h.sandbox.recorder.count({ provider: 'vonage', to: vonageTo(phone) }), 0);
  });

  test('the last provider of the chain failing ends the delivery failed, after both were tried', async () => {
    const phone = '+14155550104';
    assert.equal((await app.call('/v1/users/cody', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: 'server_error' });
    h.sandbox.behaviors.add({ provider: 'vonage', to: vonageTo(phone), fail: '4' }); // bad credentials: configuration
    const id = await sendSms(app, 'cody', 'hi');
    const d = await finalDelivery(app, id);
    assert.equal(d.status, 'failed');
    assert.equal(d.plugin, 'vonage');
    assert.equal(d.reason, 'configuration');
    assert.ok(d.events.some((e) => e.status === 'rerouted'));
    h.sandbox.behaviors.clear('vonage');
  });

  test('an app without a fallback order uses its one provider and never reroutes', async () => {
    const solo = await h.createApp({ providers: { sms: ['twilio'] } });
    const phone = '+14155550105';
    assert.equal((await solo.call('/v1/users/dina', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: 'server_error', times: 1 });
    const id = await sendSms(solo, 'dina', 'hi');
    const d = await finalDelivery(solo, id);
    assert.equal(d.status, 'sent');
    assert.equal(d.plugin, 'twilio');
    assert.deepEqual(statuses(d), ['pending', 'retrying', 'sent']);
  });
});

describe('circuit breaker: a provider that keeps failing is skipped, then probed again', () => {
  let h: Harness;
  let app: TestApp;
  const circuitState = async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    return Number(/clarion_plugin_circuit_state\{[^}]*plugin="twilio"[^}]*\} (\d)/.exec(text)?.[1]);
  };
  before(async () => {
    h = await startHarness({
      label: 'circuit',
      fakes: [twilioFake(), vonageFake()],
      env: {
        CLARION_PLUGINS: SMS_PLUGINS,
        CLARION_FALLBACK_AFTER_ATTEMPTS: '1',
        CLARION_CIRCUIT_FAILURE_THRESHOLD: '2',
        CLARION_CIRCUIT_WINDOW_MS: '60000',
        CLARION_CIRCUIT_COOLDOWN_MS: '1500',
      },
    });
    app = await h.createApp({ providers: { sms: ['twilio', 'vonage'] } });
    for (const [user, phone] of [
      ['u1', '+14155550201'],
      ['u2', '+14155550202'],
      ['u3', '+14155550203'],
      ['u4', '+14155550204'],
    ]) {
      assert.equal((await app.call(`/v1/users/${user}`, { method: 'PUT', body: { phone } })).status, 201);
    }
  });
  after(() => h.close());

  test('opens after N provider-side failures; while open, deliveries go straight to the next provider; a probe after the cooldown closes it', async () => {
    assert.equal(await circuitState(), 0, 'closed at start');
    h.sandbox.behaviors.add({ provider: 'twilio', to: '*', fail: 'unavailable', times: 2 });
    for (const user of ['u1', 'u2']) {
      const d = await finalDelivery(app, await sendSms(app, user, `to ${user}`));
      assert.equal(d.plugin, 'vonage');
      assert.equal(d.events.find((e) => e.status === 'rerouted')?.detail?.cause, 'provider_failed');
    }
    assert.equal(await circuitState(), 2, 'open');
    const twilioCalls = h.sandbox.recorder.count({ provider: 'twilio' });
    assert.equal(twilioCalls, 2);

    // Open: twilio is not even called.
    const open = await finalDelivery(app, await sendSms(app, 'u3', 'while open'));
    assert.equal(open.status, 'sent');
    assert.equal(open.plugin, 'vonage');
    assert.equal(open.events.find((e) => e.status === 'rerouted')?.detail?.cause, 'circuit_open');
    assert.equal(
      h.sandbox.recorder.count({ provider: 'twilio' }),
      twilioCalls,
      'no request reached twilio while open',
    );

    // After the cooldown one probe goes to twilio (healthy again): it sends, and the circuit closes.
    await new Promise((r) => setTimeout(r, 1600));
    const probe = await finalDelivery(app, await sendSms(app, 'u4', 'probe'));
    assert.equal(probe.status, 'sent');
    assert.equal(probe.plugin, 'twilio');
    assert.deepEqual(statuses(probe), ['pending', 'sent']);
    assert.equal(await circuitState(), 0, 'closed again');
  });
});
