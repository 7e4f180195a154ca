import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeJob, type RuntimeHarness, startRuntime } from '@clarion/plugin-sdk/testing';
import { Sandbox, vonageFake } from '@clarion/sandbox';
import vonagePlugin from './plugin';

const job = (phone: string) =>
  makeJob({
    plugin: 'vonage',
    channel: 'sms',
    address: { kind: 'phone', contactId: 'c', phone },
    content: { text: 'Hello' },
  });

describe('vonage plugin in the runtime (BullMQ on Redis)', () => {
  let sandbox: Sandbox;
  let h: RuntimeHarness;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [vonageFake()] });
    h = await startRuntime(vonagePlugin, sandbox.pluginConfigs().vonage, {
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
  });
  after(async () => {
    await h.close();
    await sandbox.stop();
  });

  test('internal errors (status 5) are retried, then the delivery is sent', async () => {
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900200', fail: '5', times: 2 });
    const delivery = job('+447700900200');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
  });

  test('a barred number fails at once as opted out', async () => {
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900201', fail: '7' });
    const delivery = job('+447700900201');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.ok(
      final.type === 'failed' &&
        final.reason === 'invalid_address' &&
        final.error.addressReason === 'opted_out',
    );
  });

  test('bad credentials mark the plugin unhealthy until a send succeeds', async () => {
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900202', fail: '4', times: 1 });
    const bad = job('+447700900202');
    await h.enqueue(bad);
    const final = await h.final(bad.deliveryId);
    assert.ok(final.type === 'failed' && final.reason === 'configuration');
    assert.equal(h.runtime.getHealth().healthy, false);
    const good = job('+447700900203');
    await h.enqueue(good);
    assert.equal((await h.final(good.deliveryId)).type, 'sent');
    assert.equal(h.runtime.getHealth().healthy, true);
  });
});
