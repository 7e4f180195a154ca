import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeJob, type RuntimeHarness, startRuntime } from '@clarion/plugin-sdk/testing';
import { Sandbox, sendgridFake } from '@clarion/sandbox';
import sendgridPlugin from './plugin';

const job = (email: string) =>
  makeJob({
    plugin: 'sendgrid',
    channel: 'email',
    address: { kind: 'email', contactId: 'c', email },
    content: { subject: 'Hi', html: '<p>Hi</p>' },
  });

describe('sendgrid plugin in the runtime (BullMQ on Redis)', () => {
  let sandbox: Sandbox;
  let h: RuntimeHarness;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [sendgridFake()] });
    h = await startRuntime(sendgridPlugin, sandbox.pluginConfigs().sendgrid, {
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
  });
  after(async () => {
    await h.close();
    await sandbox.stop();
  });

  test('5xx answers are retried, then the delivery is sent with the X-Message-Id', async () => {
    sandbox.behaviors.add({ provider: 'sendgrid', to: 'retry@example.com', fail: '500', times: 2 });
    const delivery = job('retry@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
    assert.equal(
      final.type === 'sent' && final.providerMessageId,
      sandbox.recorder.list({ to: 'retry@example.com', outcome: 'accepted' })[0]?.providerMessageId,
    );
  });

  test('a 429 pauses the queue until the reset time, then sends', async () => {
    sandbox.behaviors.add({
      provider: 'sendgrid',
      to: 'slow@example.com',
      fail: 'rate_limit',
      retryAfterSeconds: 1,
      times: 1,
    });
    const delivery = job('slow@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 1);
  });
});
