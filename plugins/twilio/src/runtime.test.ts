import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeJob, type RuntimeHarness, startRuntime } from '@clarion/plugin-sdk/testing';
import { Sandbox, twilioFake } from '@clarion/sandbox';
import twilioPlugin from './plugin';

const job = (phone: string) =>
  makeJob({
    plugin: 'twilio',
    channel: 'sms',
    address: { kind: 'phone', contactId: 'c', phone },
    content: { text: 'Hello €' },
  });

describe('twilio plugin in the runtime (BullMQ on Redis)', () => {
  let sandbox: Sandbox;
  let h: RuntimeHarness;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [twilioFake()] });
    h = await startRuntime(twilioPlugin, sandbox.pluginConfigs().twilio, {
      processor: { backoff: { baseMs: 50, maxMs: 200 }, limiter: { max: 1000, durationMs: 1000 } },
    });
  });
  after(async () => {
    await h.close();
    await sandbox.stop();
  });

  test('two 5xx answers are retried, then the delivery is sent, with segments on the outcome', async () => {
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550200', fail: '20503', times: 2 });
    const delivery = job('+14155550200');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
    assert.equal(
      h.reporter.outcomes.filter((o) => o.job.deliveryId === delivery.deliveryId && o.type === 'retrying')
        .length,
      2,
    );
    assert.deepEqual(
      final.type === 'sent' && { segments: final.details?.segments, encoding: final.details?.encoding },
      { segments: 1, encoding: 'GSM-7' },
    );
    const metrics = await h.registry.getSingleMetric('clarion_twilio_segments_total')?.get();
    assert.ok(metrics?.values.some((v) => v.labels.encoding === 'GSM-7' && v.value >= 1));
  });

  test('a throttle pauses the queue and then sends, without spending an attempt', async () => {
    sandbox.behaviors.add({
      provider: 'twilio',
      to: '+14155550201',
      fail: 'rate_limit',
      retryAfterSeconds: 1,
      times: 1,
    });
    const delivery = job('+14155550201');
    const started = Date.now();
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
  });

  test('STOP (21610) fails at once as an opted-out address', async () => {
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550202', fail: '21610' });
    const delivery = job('+14155550202');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'failed');
    assert.ok(
      final.type === 'failed' &&
        final.reason === 'invalid_address' &&
        final.error.addressReason === 'opted_out',
    );
    assert.equal(final.attempt, 1);
  });
});
