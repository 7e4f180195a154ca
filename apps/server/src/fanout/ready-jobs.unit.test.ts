import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assignBatches } from '../ingest/delivery-batches';
import { plan } from '../testing/delivery-plans';
import { readyJobsByPlugin } from './ready-jobs';

describe('readyJobsByPlugin: what a chunk still being written will add to the queues', () => {
  test('one job per batch, one per delivery outside a batch; held and suppressed deliveries add none', () => {
    const plans = [
      ...Array.from({ length: 120 }, () => plan('fcm')), // 3 batches of up to 50
      ...Array.from({ length: 3 }, () => plan('twilio')), // not batchable: a job each
      plan('fcm', 'normal', true), // held for quiet hours: delayed, not waiting
      { ...plan('fcm'), status: 'suppressed' as const, job: null },
    ];
    assignBatches(plans, (plugin) => plugin !== 'twilio');
    assert.deepEqual([...readyJobsByPlugin(plans)].sort(), [
      ['fcm', 3],
      ['twilio', 3],
    ]);
    assert.equal(readyJobsByPlugin([]).size, 0);
  });
});
