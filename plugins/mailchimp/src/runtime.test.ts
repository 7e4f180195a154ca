import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeJob, type RuntimeHarness, startRuntime } from '@clarion/plugin-sdk/testing';
import { mailchimpFake, Sandbox } from '@clarion/sandbox';
import mailchimpPlugin from './plugin';

const job = (email: string) =>
  makeJob({
    plugin: 'mailchimp',
    channel: 'email',
    address: { kind: 'email', contactId: 'c', email },
    content: { subject: 'Hi', text: 'Hi' },
  });

describe('mailchimp plugin in the runtime (BullMQ on Redis)', () => {
  let sandbox: Sandbox;
  let h: RuntimeHarness;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [mailchimpFake()] });
    h = await startRuntime(mailchimpPlugin, sandbox.pluginConfigs().mailchimp, {
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
  });
  after(async () => {
    await h.close();
    await sandbox.stop();
  });

  test('GeneralError is retried, then the delivery is sent', async () => {
    sandbox.behaviors.add({ provider: 'mailchimp', to: 'retry@example.com', fail: 'GeneralError', times: 2 });
    const delivery = job('retry@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
  });

  test('an unsubscribed recipient fails at once as opted out', async () => {
    sandbox.behaviors.add({ provider: 'mailchimp', to: 'unsub@example.com', fail: 'unsub' });
    const delivery = job('unsub@example.com');
    await h.enqueue(delivery);
    const final = await h.final(delivery.deliveryId);
    assert.ok(
      final.type === 'failed' &&
        final.reason === 'invalid_address' &&
        final.error.addressReason === 'opted_out',
    );
  });
});
