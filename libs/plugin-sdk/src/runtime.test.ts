import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidAddressError, PermanentError, RetryableError } from './errors';
import type { DeliveryJob } from './message';
import type { DeliveryOutcome } from './outcome';
import { defineChannelPlugin } from './plugin';
import { deliveryJobOptions, pluginQueueName } from './queues';
import { PluginRuntime } from './runtime';
import { CancelMarks, gateKeys } from './send-gate';
import { makeJob, RecordingReporter } from './testing';

/** Fails the status write of chosen deliveries' first `sent` outcome, as a database outage would. */
class FlakyReporter extends RecordingReporter {
  readonly failSentOnce = new Set<string>();
  override async report(outcome: DeliveryOutcome): Promise<void> {
    if (outcome.type === 'sent' && this.failSentOnce.delete(outcome.job.deliveryId))
      throw new Error('status write failed');
    return super.report(outcome);
  }
}

/** A scripted plugin: each address token names what the fake provider does on each attempt. */
const calls = new Map<string, number>();
const scripted = defineChannelPlugin({
  name: 'scripted',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'push',
  platforms: ['android'],
  addressKind: 'device',
  config: z.object({}),
  processor: { concurrency: 5, attempts: 3, backoff: { baseMs: 20, maxMs: 100 } },
  async createSender() {
    return {
      async send(job: DeliveryJob) {
        const token = job.address.kind === 'device' ? (job.address.token ?? '') : '';
        const n = (calls.get(job.deliveryId) ?? 0) + 1;
        calls.set(job.deliveryId, n);
        const step = token.split(',')[n - 1] ?? token.split(',').at(-1);
        if (step === 'retry')
          throw new RetryableError('503 from provider', { status: 503, code: 'UNAVAILABLE' });
        if (step === 'wait') throw new RetryableError('slow down', { retryAfterMs: 300, status: 429 });
        if (step === 'throttle')
          throw new RetryableError('429', { throttled: true, retryAfterMs: 200, status: 429 });
        if (step === 'config')
          throw new PermanentError('bad key', { configuration: true, code: 'InvalidProviderToken' });
        if (step === 'perm')
          throw new PermanentError('payload too large', { code: 'PayloadTooLarge', status: 413 });
        if (step === 'dead')
          throw new InvalidAddressError('gone', {
            code: 'Unregistered',
            reason: 'unregistered',
            invalidSince: new Date(0),
          });
        if (step === 'crash') throw new TypeError('boom');
        return { providerMessageId: `msg-${job.deliveryId}-${n}` };
      },
      async close() {},
    };
  },
});

const job = (token: string, extra: Partial<DeliveryJob> = {}) =>
  makeJob({
    plugin: 'scripted',
    channel: 'push',
    address: { kind: 'device', contactId: 'c1', platform: 'android', token },
    ...extra,
  });

describe('PluginRuntime (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('sdk');
  const registry = new Registry();
  const reporter = new FlakyReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    runtime = await PluginRuntime.start({
      plugin: scripted,
      config: {},
      connection: redis,
      prefix,
      registry,
      reporter,
    });
    queue = new Queue(pluginQueueName('scripted'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const run = async (j: DeliveryJob) => {
    await queue.add('deliver', j, deliveryJobOptions(j, scripted.processor));
    return waitFor(`final outcome of ${j.address.kind === 'device' ? j.address.token : ''}`, () =>
      reporter.final(j.deliveryId),
    );
  };

  test('a successful send is reported with the provider id', async () => {
    const j = job('ok');
    const outcome = await run(j);
    assert.equal(outcome.type, 'sent');
    assert.equal(outcome.type === 'sent' && outcome.providerMessageId, `msg-${j.deliveryId}-1`);
  });

  test('the sent mark expires with the last possible re-run of its job, not after 7 days', async () => {
    const j = job('ok');
    assert.equal((await run(j)).type, 'sent');
    // scripted: 3 attempts, backoff at most 100 ms, BullMQ's 30 s locks: the one-hour floor.
    const ttl = await redis.ttl(gateKeys.sent(prefix, j.deliveryId));
    assert.ok(ttl > 3500 && ttl <= 3600, `TTL ${ttl} s`);
  });

  test('retryable errors back off and retry, then succeed', async () => {
    const j = job('retry,retry,ok');
    const outcome = await run(j);
    assert.equal(outcome.type, 'sent');
    assert.equal(outcome.attempt, 3);
    const retries = reporter.outcomes.filter(
      (o) => o.job.deliveryId === j.deliveryId && o.type === 'retrying',
    );
    assert.equal(retries.length, 2);
  });

  test('Retry-After from the provider sets the delay', async () => {
    const j = job('wait,ok');
    const started = Date.now();
    const outcome = await run(j);
    assert.equal(outcome.type, 'sent');
    assert.ok(Date.now() - started >= 300, 'waited at least the provider Retry-After');
  });

  test('unknown exceptions count as retryable; exhausting attempts fails the delivery', async () => {
    const j = job('crash');
    const outcome = await run(j);
    assert.equal(outcome.type, 'failed');
    assert.equal(outcome.type === 'failed' && outcome.reason, 'retries_exhausted');
    assert.equal(calls.get(j.deliveryId), 3);
  });

  test('a permanent error fails at once', async () => {
    const j = job('perm');
    const outcome = await run(j);
    assert.equal(outcome.type === 'failed' && outcome.reason, 'permanent');
    assert.equal(outcome.type === 'failed' && outcome.error.code, 'PayloadTooLarge');
    assert.equal(calls.get(j.deliveryId), 1);
  });

  test('an invalid address fails at once and says why and since when', async () => {
    const j = job('dead');
    const outcome = await run(j);
    assert.equal(outcome.type === 'failed' && outcome.reason, 'invalid_address');
    assert.equal(outcome.type === 'failed' && outcome.error.addressReason, 'unregistered');
    assert.equal(outcome.type === 'failed' && outcome.error.invalidSince, new Date(0).toISOString());
  });

  test('a configuration error marks the plugin unhealthy until a send succeeds', async () => {
    await run(job('config'));
    assert.equal(runtime.getHealth().healthy, false);
    const gauge = (await registry.getMetricsAsJSON()).find((m) => m.name === 'clarion_plugin_healthy');
    assert.equal(gauge?.values.find((v) => v.labels.plugin === 'scripted')?.value, 0);
    await run(job('ok'));
    assert.equal(runtime.getHealth().healthy, true);
  });

  test('a throttled provider pauses the queue without spending attempts', async () => {
    const j = job('throttle,throttle,throttle,ok');
    const outcome = await run(j);
    assert.equal(outcome.type, 'sent', 'four tries with attempts=3: throttling did not use them up');
  });

  test('an expired delivery is dropped without calling the provider', async () => {
    const j = job('ok', { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const outcome = await run(j);
    assert.equal(outcome.type, 'expired');
    assert.equal(calls.get(j.deliveryId), undefined);
  });

  test('a delivery already sent is not sent again when its job runs again', async () => {
    const j = job('ok');
    await run(j);
    await queue.remove(j.deliveryId);
    reporter.outcomes.length = 0;
    await run(j); // the same delivery enqueued again (sweeper, stalled job)
    assert.equal(calls.get(j.deliveryId), 1, 'provider called once');
    assert.equal(reporter.final(j.deliveryId)?.type, 'sent');
  });

  test('the same delivery enqueued twice is one job', async () => {
    const j = job('ok');
    await queue.add('deliver', j, deliveryJobOptions(j, scripted.processor));
    await queue.add('deliver', j, deliveryJobOptions(j, scripted.processor));
    await waitFor('sent', () => reporter.final(j.deliveryId));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls.get(j.deliveryId), 1);
  });

  test('a job retried because the status write failed after a successful send does not send again', async () => {
    const j = job('ok');
    reporter.failSentOnce.add(j.deliveryId);
    const outcome = await run(j);
    assert.equal(outcome.type, 'sent');
    assert.equal(calls.get(j.deliveryId), 1, 'provider called once');
    assert.equal(outcome.attempt, 2, 'the job ran again to record it');
    assert.ok(
      !reporter.outcomes.some((o) => o.job.deliveryId === j.deliveryId && o.type === 'retrying'),
      'no failed send is reported: the send succeeded',
    );
    assert.equal(
      outcome.type === 'sent' && outcome.providerMessageId,
      `msg-${j.deliveryId}-1`,
      'the provider id survives from the ledger',
    );
  });

  test('a delivery of a canceled notification is reported canceled without calling the provider', async () => {
    const j = job('ok');
    await new CancelMarks(redis, prefix).mark(j.notificationId);
    const outcome = await run(j);
    assert.equal(outcome.type, 'canceled');
    assert.equal(calls.get(j.deliveryId), undefined);
    const text = await registry.metrics();
    assert.match(
      text,
      /clarion_plugin_send_attempts_total\{plugin="scripted",channel="push",result="canceled"\} [1-9]/,
    );
  });

  test('a retry after a cancel is canceled: the first attempt ran, the second never calls the provider', async () => {
    const j = job('wait,ok'); // the provider asks for 300 ms before the retry: time to cancel
    await queue.add('deliver', j, deliveryJobOptions(j, scripted.processor));
    await waitFor('first attempt', () =>
      reporter.outcomes.some((o) => o.job.deliveryId === j.deliveryId && o.type === 'retrying'),
    );
    await new CancelMarks(redis, prefix).mark(j.notificationId);
    const outcome = await waitFor('final', () => reporter.final(j.deliveryId));
    assert.equal(outcome.type, 'canceled');
    assert.equal(calls.get(j.deliveryId), 1);
  });
});
