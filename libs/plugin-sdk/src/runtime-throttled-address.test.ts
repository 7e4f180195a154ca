import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { ThrottledAddressError } from './errors';
import type { DeliveryJob } from './message';
import { defineChannelPlugin } from './plugin';
import { makeJob, type RuntimeHarness, startRuntime } from './testing';

/** Each URL's path lists what the fake provider answers on each run: `limit` is a 429 for that address. */
const runs = new Map<string, number[]>();
const perAddress = defineChannelPlugin({
  name: 'per-address',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'chat',
  addressKind: 'url',
  config: z.object({}),
  processor: { concurrency: 4, attempts: 2, backoff: { baseMs: 20, maxMs: 50 } },
  async createSender() {
    return {
      async send(job: DeliveryJob) {
        const url = job.address.kind === 'url' ? job.address.url : '';
        const seen = runs.get(job.deliveryId) ?? [];
        seen.push(Date.now());
        runs.set(job.deliveryId, seen);
        const steps = new URL(url).pathname.slice(1).split(',');
        const step = steps[seen.length - 1] ?? steps.at(-1);
        if (step === 'limit') throw new ThrottledAddressError('429 for this webhook', 400, { status: 429 });
        return { providerMessageId: `m-${seen.length}` };
      },
      async close() {},
    };
  },
});

function job(path: string): DeliveryJob {
  return makeJob({
    plugin: 'per-address',
    channel: 'chat',
    address: { kind: 'url', url: `https://hooks.example/${path}` },
  });
}

async function throttledCount(h: RuntimeHarness): Promise<number> {
  const metric = (await h.registry.getMetricsAsJSON()).find(
    (m) => m.name === 'clarion_plugin_send_attempts_total',
  );
  return metric?.values.find((v) => v.labels.result === 'throttled')?.value ?? 0;
}

describe('per-address throttling (ThrottledAddressError)', () => {
  let h: RuntimeHarness;
  before(async () => {
    h = await startRuntime(perAddress, {}, { maxThrottledRetries: 3 });
  });
  after(async () => {
    await h?.close();
  });

  test('delays only that delivery for Retry-After, spends no attempt, and counts it as throttled', async () => {
    const limited = job('limit,limit,ok'); // two 429s with attempts=2: sent only if no attempt was spent
    const other = job('ok');
    await h.enqueue(limited);
    await h.enqueue(other);
    const otherOutcome = await h.final(other.deliveryId, 5000);
    assert.equal(otherOutcome.type, 'sent');
    const limitedRuns = runs.get(limited.deliveryId)!;
    // The queue was not paused: the other delivery went out before the throttled one's wait ended.
    assert.ok(runs.get(other.deliveryId)![0]! < limitedRuns[0]! + 400, 'the other delivery did not wait');
    const outcome = await h.final(limited.deliveryId, 10_000);
    assert.equal(outcome.type, 'sent');
    assert.equal(limitedRuns.length, 3);
    assert.ok(limitedRuns[1]! - limitedRuns[0]! >= 400, 'retried after Retry-After, not before');
    assert.ok(limitedRuns[2]! - limitedRuns[1]! >= 400);
    assert.equal(outcome.attempt, 1, 'no attempt spent on the 429s');
    const retrying = h.reporter.outcomes.filter(
      (o) => o.job.deliveryId === limited.deliveryId && o.type === 'retrying',
    );
    assert.equal(retrying.length, 2, 'each 429 is in the status history');
    assert.equal(await throttledCount(h), 2);
  });

  test('a provider answering 429 forever fails the delivery `throttled` after maxThrottledRetries runs', async () => {
    const before = await throttledCount(h);
    const forever = job('limit');
    await h.enqueue(forever);
    const outcome = await h.final(forever.deliveryId, 10_000);
    assert.equal(outcome.type, 'failed');
    assert.equal(outcome.type === 'failed' && outcome.reason, 'throttled');
    assert.equal(runs.get(forever.deliveryId)!.length, 4, 'three delayed runs, the fourth gives up');
    assert.equal((await throttledCount(h)) - before, 4);
  });
});
