import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnyChannelPlugin, DeliveryJob } from '@clarion/plugin-sdk';
import { loadableNext } from './outcome-router';

const job = (plugin: string, fallback: string[]): DeliveryJob => ({
  deliveryId: '01a21d9c-0000-7000-8000-000000000000',
  notificationId: '01a21d9c-0000-7000-8000-000000000001',
  appId: '01a21d9c-0000-7000-8000-000000000002',
  channel: 'sms',
  plugin,
  fallback,
  address: { kind: 'phone', contactId: 'c', phone: '+14155550100' },
  content: { text: 'hi' },
  priority: 'normal',
  acceptedAt: new Date(0).toISOString(),
});

const loaded = (...names: string[]) => ({
  get: (n: string) => (names.includes(n) ? ({ name: n } as AnyChannelPlugin) : undefined),
});

describe('a reroute to a provider this deployment no longer loads', () => {
  test('the next loaded provider of the chain takes it, with the rest of the chain', () => {
    const next = loadableNext(
      job('gone', ['vonage', 'also-gone', 'messagebird']),
      loaded('vonage', 'messagebird'),
    );
    assert.equal(next?.plugin, 'vonage');
    assert.deepEqual(next?.fallback, ['messagebird']);
  });

  test('nothing loaded left: no next job (the router records the delivery failed instead)', () => {
    assert.equal(loadableNext(job('gone', ['also-gone']), loaded('twilio')), undefined);
  });

  test('a loaded next provider is taken as it is', () => {
    assert.deepEqual(loadableNext(job('vonage', []), loaded('vonage')), job('vonage', []));
  });
});
