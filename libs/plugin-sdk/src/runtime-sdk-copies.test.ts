import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import * as ours from './errors';
import type { DeliveryJob } from './message';
import { defineChannelPlugin } from './plugin';
import { deliveryJobOptions, pluginQueueName } from './queues';
import { PluginRuntime } from './runtime';
import { makeJob, RecordingReporter } from './testing';

/**
 * A plugin that resolves its own copy of the SDK (npm installs one beside it) throws error classes
 * the runtime's copy never defined: they must be classified all the same.
 */
describe('errors thrown from another copy of the SDK', () => {
  const copy = mkdtempSync(join(tmpdir(), 'clarion-sdk-copy-'));
  cpSync(__dirname, copy, { recursive: true });
  // A fresh module (another path): its classes are not this copy's classes.
  const theirs = require(join(copy, 'errors.js')) as typeof ours;

  const plugin = defineChannelPlugin({
    name: 'copied',
    version: '1.0.0',
    sdkVersion: '^0.1.0',
    channel: 'sms',
    addressKind: 'phone',
    config: z.object({}),
    processor: { concurrency: 2, attempts: 3, backoff: { baseMs: 20, maxMs: 50 } },
    async createSender() {
      return {
        async send(job: DeliveryJob) {
          const step = job.address.kind === 'phone' ? job.address.phone : '';
          if (step === '+15550000001')
            throw new theirs.InvalidAddressError('no such number', { code: '21211', reason: 'invalid' });
          if (step === '+15550000002')
            throw new theirs.PermanentError('bad credentials', { configuration: true, code: '20003' });
          throw new theirs.PermanentError('too long', { code: '21617', status: 400 });
        },
        async close() {},
      };
    },
  });

  const redis = testRedis();
  const prefix = testPrefix('sdkcopy');
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;
  before(async () => {
    runtime = await PluginRuntime.start({
      plugin,
      config: {},
      connection: redis,
      prefix,
      registry: new Registry(),
      reporter,
    });
    queue = new Queue(pluginQueueName('copied'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    rmSync(copy, { recursive: true, force: true });
  });

  const run = async (phone: string) => {
    const j = makeJob({
      plugin: 'copied',
      channel: 'sms',
      address: { kind: 'phone', contactId: 'c1', phone },
    });
    await queue.add('deliver', j, deliveryJobOptions(j, plugin.processor));
    return waitFor(`final outcome for ${phone}`, () => reporter.final(j.deliveryId));
  };

  test('the copy really is another class', () => {
    const error = new theirs.InvalidAddressError('x');
    assert.equal(error instanceof ours.InvalidAddressError, false);
    assert.equal(ours.isInvalidAddressError(error), true);
    assert.equal(ours.sendErrorKind(new Error('plain')), undefined);
  });

  test('an invalid address from the copy fails at once as invalid_address (the contact is disabled)', async () => {
    const outcome = await run('+15550000001');
    assert.equal(outcome.type === 'failed' && outcome.reason, 'invalid_address');
    assert.equal(outcome.type === 'failed' && outcome.error.addressReason, 'invalid');
    assert.equal(outcome.attempt, 1, 'not retried as an unknown error');
  });

  test('a permanent error from the copy fails at once; a configuration one marks the plugin unhealthy', async () => {
    const permanent = await run('+15550000003');
    assert.equal(permanent.type === 'failed' && permanent.reason, 'permanent');
    assert.equal(permanent.attempt, 1);
    const configuration = await run('+15550000002');
    assert.equal(configuration.type === 'failed' && configuration.reason, 'configuration');
    assert.equal(runtime.getHealth().healthy, false);
  });
});
