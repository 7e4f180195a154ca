import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeJob, type RuntimeHarness, startRuntime } from '@clarion/plugin-sdk/testing';
import { Sandbox, smtpFake } from '@clarion/sandbox';
import smtpPlugin from './plugin';

const job = (email: string) =>
  makeJob({
    plugin: 'smtp',
    channel: 'email',
    address: { kind: 'email', contactId: 'c', email },
    content: { subject: 'Hi', text: 'Hi' },
  });

describe('smtp plugin in the runtime (BullMQ on Redis)', () => {
  let sandbox: Sandbox;
  let h: RuntimeHarness;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [smtpFake()] });
    h = await startRuntime(smtpPlugin, sandbox.pluginConfigs().smtp, {
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
  });
  after(async () => {
    await h.close();
    await sandbox.stop();
  });

  test('temporary refusals (451) are retried, then the mail is delivered', async () => {
    sandbox.behaviors.add({ provider: 'smtp', to: 'greylisted@example.com', fail: '451', times: 2 });
    const delivery = job('greylisted@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
    assert.equal(
      sandbox.recorder.count({ provider: 'smtp', to: 'greylisted@example.com', outcome: 'accepted' }),
      1,
    );
  });

  test('a recipient refused with 550 fails at once as an invalid address', async () => {
    sandbox.behaviors.add({ provider: 'smtp', to: 'unknown@example.com', fail: '550' });
    const delivery = job('unknown@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.ok(final.type === 'failed' && final.reason === 'invalid_address');
    assert.equal(final.attempt, 1);
  });
});
