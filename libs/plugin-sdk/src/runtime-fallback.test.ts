import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor, waitForJobCompleted } from '@clarion/testkit';
import { z } from 'zod';
import { InvalidAddressError, PermanentError, RetryableError } from './errors';
import type { DeliveryJob } from './message';
import { defineChannelPlugin } from './plugin';
import { deliveryJobOptions } from './queues';
import { makeJob, type RuntimeHarness, startRuntime } from './testing';

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
  makeJob({
    plugin: 'flaky',
    channel: 'sms',
    address: { kind: 'phone', contactId: 'c', phone },
    ...(fallback ? { fallback } : {}),
  });

describe('PluginRuntime: fallback and circuit breaker (real BullMQ on Redis)', () => {
  let h: RuntimeHarness;
  before(async () => {
    h = await startRuntime(
      flaky,
      {},
      { fallbackAfterAttempts: 2, circuit: { failureThreshold: 1000, windowMs: 60_000, cooldownMs: 400 } },
    );
  });
  after(() => h.close());

  const run = async (j: DeliveryJob) => {
    await h.enqueue(j);
    return h.final(j.deliveryId);
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
    // The job ends here, completed (and dropped), not failed: the host enqueues the next. The outcome
    // is reported just before the job completes, so wait for that rather than read the state once.
    await waitForJobCompleted(h.queue, j.deliveryId);
  });

  test('a stale copy of a rerouted job (its worker died, or the host write failed) hands it on again, never sends', async () => {
    const j = job('down', ['second']);
    assert.equal((await run(j)).type, 'rerouted');
    const before = sends.length;
    const outcomes = h.reporter.outcomes.length;
    // The same delivery again on the first queue, as BullMQ's stalled-job recovery would run it.
    const again = await h.queue.add('deliver', j, {
      ...deliveryJobOptions(j, flaky.processor),
      jobId: `${j.deliveryId}-stalled`,
    });
    await waitForJobCompleted(h.queue, again.id!);
    assert.equal(sends.length, before, 'the first provider was not called again');
    const repeat = h.reporter.outcomes.slice(outcomes);
    assert.equal(repeat.length, 1);
    assert.equal(
      repeat[0]?.type,
      'rerouted',
      'the same hand-over, reported again (the host applies it once)',
    );
    assert.equal(repeat[0]?.type === 'rerouted' && repeat[0].next.plugin, 'second');
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
  let h: RuntimeHarness;
  before(async () => {
    h = await startRuntime(
      flaky,
      {},
      { fallbackAfterAttempts: 1, circuit: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 500 } },
    );
  });
  after(() => h.close());

  test('reroutes without calling the provider when there is a chain; waits without spending attempts when there is none', async () => {
    providerUp = false;
    for (const phone of ['a', 'b']) {
      const j = job(phone, ['second']);
      await h.enqueue(j);
      await h.final(j.deliveryId);
    }
    // Two provider-side failures: open.
    await waitFor('open', () => h.runtime.circuitState() === 'open');
    const metrics = await h.registry.getSingleMetricAsString('clarion_plugin_circuit_state');
    assert.match(metrics, /clarion_plugin_circuit_state\{plugin="flaky"\} 2/);

    const before = sends.length;
    const withChain = job('c', ['second']);
    await h.enqueue(withChain);
    const o = await h.final(withChain.deliveryId);
    assert.equal(o.type === 'rerouted' && o.cause, 'circuit_open');
    assert.equal(sends.length, before, 'the provider was not called');

    // No chain: the job is delayed until the cooldown ends, then the probe sends it.
    providerUp = true;
    const alone = job('d');
    await h.enqueue(alone);
    await waitFor(
      'delayed',
      async () => (await (await h.queue.getJob(alone.deliveryId))?.getState()) === 'delayed',
      { timeoutMs: 2000 },
    );
    const sent = await h.final(alone.deliveryId, 5000);
    assert.equal(sent.type, 'sent');
    assert.equal(sent.attempt, 1, 'waiting for the circuit cost no attempt');
    assert.equal(h.runtime.circuitState(), 'closed');
  });
});
