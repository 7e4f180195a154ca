import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidAddressError, PermanentError, RetryableError } from './errors';
import type { DeliveryJob } from './message';
import { defineChannelPlugin } from './plugin';
import { deliveryJobOptions, pluginQueueName } from './queues';
import { PluginRuntime } from './runtime';
import { makeJob, RecordingReporter } from './testing';

/** The phone number names what the fake provider does: `down` (503), `config` (401), `dead`, `bad` (permanent), else ok. */
let providerUp = true;
const sends: string[] = [];
const flaky = defineChannelPlugin({
  name: 'flaky',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'sms',
  addressKind: 'phone',
  config: z.object({}),
  processor: { concurrency: 2, attempts: 5, backoff: { baseMs: 10, maxMs: 20 } },
  async createSender() {
    return {
      async send(job: DeliveryJob) {
        const to = job.address.kind === 'phone' ? job.address.phone : '';
        sends.push(to);
        if (to === 'down' || !providerUp) throw new RetryableError('503', { status: 503 });
        if (to === 'config') throw new PermanentError('401', { status: 401, configuration: true });
        if (to === 'dead') throw new InvalidAddressError('21211', { code: '21211' });
        if (to === 'bad') throw new PermanentError('21617', { code: '21617' });
        return { providerMessageId: `m-${job.deliveryId}` };
      },
      async close() {},
    };
  },
});

const job = (phone: string, fallback?: string[]) =>
  makeJob({ plugin: 'flaky', channel: 'sms', address: { kind: 'phone', contactId: 'c', phone }, ...(fallback ? { fallback } : {}) });

describe('PluginRuntime: fallback and circuit breaker (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('sdkfb');
  const registry = new Registry();
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    runtime = await PluginRuntime.start({
      plugin: flaky,
      config: {},
      connection: redis,
      prefix,
      registry,
      reporter,
      fallbackAfterAttempts: 2,
      circuit: { failureThreshold: 1000, windowMs: 60_000, cooldownMs: 400 },
    });
    queue = new Queue(pluginQueueName('flaky'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const run = async (j: DeliveryJob) => {
    await queue.add('deliver', j, deliveryJobOptions(j, flaky.processor));
    return waitFor('final outcome', () => reporter.outcomes.find((o) => o.job.deliveryId === j.deliveryId && o.type !== 'retrying'));
  };

  test('a provider-side failure with a chain: rerouted after the fallback budget, carrying the rest of the chain', async () => {
    const j = job('down', ['second', 'third']);
    const o = await run(j);
    assert.equal(o.type, 'rerouted');
    assert.equal(o.attempt, 2, 'the fallback budget (2), not the plugin attempts (5)');
    if (o.type !== 'rerouted') return;
    assert.equal(o.cause, 'provider_failed');
    assert.equal(o.next.plugin, 'second');
    assert.deepEqual(o.next.fallback, ['third']);
    assert.equal(o.next.deliveryId, j.deliveryId, 'same delivery id on the next queue');
    assert.equal(o.error?.status, 503);
    assert.equal(await (await queue.getJob(j.deliveryId))?.getState(), 'completed', 'the job ends here; the host enqueues the next');
  });

  test('a stale copy of a rerouted job (its worker died before completing it) does not send', async () => {
    const j = job('down', ['second']);
    assert.equal((await run(j)).type, 'rerouted');
    const before = sends.length;
    const outcomes = reporter.outcomes.length;
    // The same delivery again on the first queue, as BullMQ's stalled-job recovery would run it.
    const again = await queue.add('deliver', j, { ...deliveryJobOptions(j, flaky.processor), jobId: `${j.deliveryId}-stalled` });
    await waitFor('the stale copy to finish', async () => (await again.getState()) === 'completed');
    assert.equal(await (await queue.getJob(`${j.deliveryId}-stalled`))?.returnvalue, 'moved');
    assert.equal(sends.length, before, 'the first provider was not called again');
    assert.equal(reporter.outcomes.length, outcomes, 'nothing reported: the next provider owns the delivery');
  });

  test('refused credentials (configuration) reroute at once', async () => {
    const o = await run(job('config', ['second']));
    assert.equal(o.type, 'rerouted');
    assert.equal(o.attempt, 1);
  });

  test('an invalid address or a permanent content error never reroutes', async () => {
    const dead = await run(job('dead', ['second']));
    assert.equal(dead.type, 'failed');
    assert.equal(dead.type === 'failed' && dead.reason, 'invalid_address');
    const bad = await run(job('bad', ['second']));
    assert.equal(bad.type === 'failed' && bad.reason, 'permanent');
  });

  test('without a chain the plugin keeps its full retry budget', async () => {
    const o = await run(job('down'));
    assert.equal(o.type, 'failed');
    assert.equal(o.attempt, 5);
  });
});

describe('PluginRuntime: an open circuit', () => {
  const redis = testRedis();
  const prefix = testPrefix('sdkcb');
  const registry = new Registry();
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    runtime = await PluginRuntime.start({
      plugin: flaky,
      config: {},
      connection: redis,
      prefix,
      registry,
      reporter,
      fallbackAfterAttempts: 1,
      circuit: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 500 },
    });
    queue = new Queue(pluginQueueName('flaky'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const add = (j: DeliveryJob) => queue.add('deliver', j, deliveryJobOptions(j, flaky.processor));
  const final = (j: DeliveryJob) =>
    waitFor('final outcome', () => reporter.outcomes.find((o) => o.job.deliveryId === j.deliveryId && o.type !== 'retrying'), { timeoutMs: 5000 });

  test('reroutes without calling the provider when there is a chain; waits without spending attempts when there is none', async () => {
    providerUp = false;
    for (const phone of ['a', 'b']) {
      const j = job(phone, ['second']);
      await add(j);
      await final(j);
    }
    // Two provider-side failures: open.
    await waitFor('open', () => runtime.circuitState() === 'open');
    const metrics = await registry.getSingleMetricAsString('clarion_plugin_circuit_state');
    assert.match(metrics, /clarion_plugin_circuit_state\{plugin="flaky"\} 2/);

    const before = sends.length;
    const withChain = job('c', ['second']);
    await add(withChain);
    const o = await final(withChain);
    assert.equal(o.type === 'rerouted' && o.cause, 'circuit_open');
    assert.equal(sends.length, before, 'the provider was not called');

    // No chain: the job is delayed until the cooldown ends, then the probe sends it.
    providerUp = true;
    const alone = job('d');
    await add(alone);
    await waitFor('delayed', async () => (await (await queue.getJob(alone.deliveryId))?.getState()) === 'delayed', { timeoutMs: 2000 });
    const sent = await final(alone);
    assert.equal(sent.type, 'sent');
    assert.equal(sent.attempt, 1, 'waiting for the circuit cost no attempt');
    assert.equal(runtime.circuitState(), 'closed');
  });
});
