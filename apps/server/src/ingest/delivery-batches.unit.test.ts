import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchJobId } from '@clarion/plugin-sdk';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { plan } from '../testing/delivery-plans';
import { assignBatches } from './delivery-batches';

describe('assignBatches: which batch job carries each delivery of a fan-out chunk', () => {
  test('up to the batch size per plugin and priority, each batch named after its first delivery', () => {
    const fcm = Array.from({ length: 7 }, () => plan('fcm'));
    const mail = Array.from({ length: 2 }, () => plan('sendgrid'));
    const urgent = [plan('fcm', 'high')];
    const plans = [...fcm.slice(0, 3), ...mail, ...urgent, ...fcm.slice(3)];
    assignBatches(plans, () => true, 3);
    const batchOf = (p: DeliveryPlan) => p.job?.batch;
    assert.deepEqual(fcm.map(batchOf), [
      ...Array(3).fill(batchJobId(fcm[0]!.id)),
      ...Array(3).fill(batchJobId(fcm[3]!.id)),
      batchJobId(fcm[6]!.id),
    ]);
    assert.deepEqual(mail.map(batchOf), Array(2).fill(batchJobId(mail[0]!.id)));
    assert.equal(batchOf(urgent[0]!), batchJobId(urgent[0]!.id), 'another priority, another batch');
  });

  test('a held delivery, a suppressed one and one of a plugin that may not batch get no batch', () => {
    const held = plan('fcm', 'normal', true);
    const limited = plan('twilio');
    const suppressed = { ...plan('fcm'), status: 'suppressed' as const, job: null };
    const ok = plan('fcm');
    assignBatches([held, limited, suppressed, ok], (plugin) => plugin !== 'twilio');
    assert.equal(held.job?.batch, undefined);
    assert.equal(limited.job?.batch, undefined);
    assert.equal(ok.job?.batch, batchJobId(ok.id));
  });
});
