import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { DeliveryRecord, DeliveryRecords } from './delivery-records';
import type { DeliveryJob } from './message';
import { defineChannelPlugin } from './plugin';
import { deliveryJobOptions, pluginQueueName } from './queues';
import { PluginRuntime } from './runtime';
import { gateKeys } from './send-gate';
import { makeJob, RecordingReporter } from './testing';

const calls = new Map<string, number>();
const counting = defineChannelPlugin({
  name: 'counting',
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
        calls.set(job.deliveryId, (calls.get(job.deliveryId) ?? 0) + 1);
        return { providerMessageId: `msg-${job.deliveryId}` };
      },
      async close() {},
    };
  },
});

/** The host's durable record, as a test sets it; `away` lookups fail first (database down). */
class ScriptedRecords implements DeliveryRecords {
  readonly known = new Map<string, DeliveryRecord>();
  away = 0;
  lookups = 0;
  async lookup(ids: readonly string[]): Promise<ReadonlyMap<string, DeliveryRecord>> {
    this.lookups++;
    if (this.away > 0) {
      this.away--;
      throw new Error('database away');
    }
    return new Map(ids.flatMap((id) => (this.known.has(id) ? [[id, this.known.get(id)!] as const] : [])));
  }
}

describe('PluginRuntime with the host durable record (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('sdkrec');
  const reporter = new RecordingReporter();
  const records = new ScriptedRecords();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    runtime = await PluginRuntime.start({
      plugin: counting,
      config: {},
      connection: redis,
      prefix,
      registry: new Registry(),
      reporter,
      records,
    });
    queue = new Queue(pluginQueueName('counting'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const job = () =>
    makeJob({
      plugin: 'counting',
      channel: 'push',
      address: { kind: 'device', contactId: 'c1', platform: 'android', token: 't' },
    });
  /** Adds the job and waits until it has completed (a completed delivery job is dropped at once). */
  const runToEnd = async (j: DeliveryJob) => {
    await queue.add('deliver', j, deliveryJobOptions(j, counting.processor));
    await waitFor('the job completed', async () => (await queue.getJobState(j.deliveryId)) === 'unknown');
  };
  const reported = (j: DeliveryJob) => reporter.outcomes.filter((o) => o.job.deliveryId === j.deliveryId);

  test('no Redis mark but recorded sent: not sent, nothing reported, the Redis mark put back', async () => {
    const j = job();
    records.known.set(j.deliveryId, { sent: true, open: false, providerMessageId: 'earlier' });
    await runToEnd(j);
    assert.equal(calls.get(j.deliveryId), undefined, 'the provider was not called');
    assert.deepEqual(reported(j), []);
    assert.equal(await redis.get(gateKeys.sent(prefix, j.deliveryId)), 'earlier');
  });

  test('a delivery that ended otherwise, or that another plugin owns now, is not sent', async () => {
    const ended = job();
    records.known.set(ended.deliveryId, { sent: false, open: false });
    const handedOn = job();
    records.known.set(handedOn.deliveryId, { sent: false, open: true, plugin: 'another' });
    await Promise.all([runToEnd(ended), runToEnd(handedOn)]);
    assert.equal(calls.get(ended.deliveryId), undefined);
    assert.equal(calls.get(handedOn.deliveryId), undefined);
    assert.deepEqual([...reported(ended), ...reported(handedOn)], []);
  });

  test('an open delivery of this plugin is sent and recorded', async () => {
    const j = job();
    records.known.set(j.deliveryId, { sent: false, open: true, plugin: 'counting' });
    await runToEnd(j);
    assert.equal(calls.get(j.deliveryId), 1);
    assert.equal(reporter.final(j.deliveryId)?.type, 'sent');
  });

  test('while the record cannot be read, nothing is sent and no attempt is spent', async () => {
    const j = job();
    records.away = 3; // more than the job's 3 attempts, were they spent
    await runToEnd(j);
    assert.equal(records.away, 0);
    assert.equal(calls.get(j.deliveryId), 1, 'sent once, after the record answered');
    const outcome = reporter.final(j.deliveryId);
    assert.equal(outcome?.type, 'sent');
    assert.equal(outcome?.attempt, 1);
  });
});
