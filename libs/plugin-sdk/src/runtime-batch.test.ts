import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { InvalidAddressError, PermanentError, RetryableError, ThrottledAddressError } from './errors';
import type { DeliveryBatch, DeliveryJob } from './message';
import type { DeliveryOutcome } from './outcome';
import { defineChannelPlugin } from './plugin';
import { BATCH_JOB_NAME, batchJobId, batchJobOptions, pluginQueueName } from './queues';
import { PluginRuntime } from './runtime';
import { CancelMarks } from './send-gate';
import { makeJob, RecordingReporter } from './testing';

/** Each address token names what the fake provider does on each attempt (`ok`, `retry,ok`, …). */
const calls = new Map<string, number>();
let inFlight = 0;
let mostInFlight = 0;
/** Sends of `hang` tokens wait on this until a test lets them go. */
let hanging: Promise<void> = Promise.resolve();

const batching = defineChannelPlugin({
  name: 'batching',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'push',
  platforms: ['android'],
  addressKind: 'device',
  config: z.object({}),
  processor: { concurrency: 4, attempts: 3, backoff: { baseMs: 20, maxMs: 100 } },
  async createSender() {
    return {
      async send(job: DeliveryJob) {
        const token = job.address.kind === 'device' ? (job.address.token ?? '') : '';
        const n = (calls.get(job.deliveryId) ?? 0) + 1;
        calls.set(job.deliveryId, n);
        const step = token.split(',')[n - 1] ?? token.split(',').at(-1);
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 5));
          if (step === 'hang') await hanging;
          if (step === 'slow') await new Promise((r) => setTimeout(r, 150));
          if (step === 'retry') throw new RetryableError('503 from provider', { status: 503 });
          if (step === 'slow-down') throw new ThrottledAddressError('too many to this device', 150);
          if (step === 'dead') throw new InvalidAddressError('gone', { reason: 'unregistered' });
          if (step === 'badkey') throw new PermanentError('key revoked', { configuration: true });
          return { providerMessageId: `msg-${job.deliveryId}-${n}` };
        } finally {
          inFlight--;
        }
      },
      async close() {},
    };
  },
});

/** Deliveries of one notification carried by one batch job, each with its own token script. */
function batchOf(tokens: string[], notificationId = randomUUID()): DeliveryBatch {
  const deliveries = tokens.map((token) =>
    makeJob({
      plugin: 'batching',
      channel: 'push',
      notificationId,
      address: { kind: 'device', contactId: 'c1', platform: 'android', token },
    }),
  );
  const batch = batchJobId(deliveries[0]!.deliveryId);
  return { deliveries: deliveries.map((d) => ({ ...d, batch })) };
}

/** Records outcomes; while `writes` is set, each waits for it first (the host's database slow or away). */
class SlowWriteReporter extends RecordingReporter {
  writes: Promise<void> | undefined;
  pending = 0;
  override async report(outcome: DeliveryOutcome): Promise<void> {
    if (this.writes) {
      this.pending++;
      await this.writes;
      this.pending--;
    }
    await super.report(outcome);
  }
}

describe('PluginRuntime with batch jobs (real BullMQ on Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('sdkbatch');
  const reporter = new SlowWriteReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  // A short lock everywhere: a queue's stalled check runs at the pace of the last worker that ran it.
  const start = (connection = redis, maxStalledCount?: number) =>
    PluginRuntime.start({
      lockDurationMs: 1000,
      stalledIntervalMs: 500,
      ...(maxStalledCount === undefined ? {} : { maxStalledCount }),
      plugin: batching,
      config: {},
      connection,
      prefix,
      registry: new Registry(),
      reporter,
    });

  before(async () => {
    runtime = await start();
    queue = new Queue(pluginQueueName('batching'), { connection: redis, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const add = (b: DeliveryBatch) => queue.add(BATCH_JOB_NAME, b, batchJobOptions(b, batching.processor));
  const settled = (b: DeliveryBatch) =>
    waitFor('every delivery of the batch ended', () =>
      b.deliveries.every((d) => reporter.final(d.deliveryId) !== undefined),
    );

  test('each delivery ends on its own: sent, failed, and a retry split out as its own job that is sent at attempt 2', async () => {
    const b = batchOf(['ok', 'ok', 'dead', 'retry,ok', 'ok']);
    await add(b);
    await settled(b);
    const [ok1, ok2, dead, flaky, ok3] = b.deliveries.map((d) => reporter.final(d.deliveryId));
    for (const o of [ok1, ok2, ok3]) {
      assert.equal(o?.type, 'sent');
      assert.equal(o?.attempt, 1);
    }
    assert.equal(dead?.type === 'failed' && dead.reason, 'invalid_address');
    const flakyId = b.deliveries[3]!.deliveryId;
    assert.deepEqual(
      reporter.outcomes.filter((o) => o.job.deliveryId === flakyId).map((o) => [o.type, o.attempt]),
      [
        ['retrying', 1],
        ['sent', 2],
      ],
    );
    assert.equal(flaky?.job.batch, undefined, 'the split-out job is its own, not the batch');
    for (const d of b.deliveries) assert.ok((calls.get(d.deliveryId) ?? 0) <= 2);
    assert.equal(calls.get(flakyId), 2);
    await waitFor(
      'the batch job completed',
      async () => (await queue.getJobState(b.deliveries[0]!.batch!)) === 'unknown',
    );
    assert.equal(await queue.getFailedCount(), 0, 'a delivery failing in a batch does not fail the batch');
  });

  test('a throttled address waits in a job of its own, spending no attempt, while the others are sent', async () => {
    const b = batchOf(['slow-down,ok', 'ok', 'ok']);
    await add(b);
    await settled(b);
    const throttled = reporter.final(b.deliveries[0]!.deliveryId)!;
    assert.equal(throttled.type, 'sent');
    assert.equal(throttled.attempt, 1, 'waiting for the provider spent no attempt');
    for (const d of b.deliveries.slice(1)) assert.equal(reporter.final(d.deliveryId)?.type, 'sent');
  });

  test('a delivery handed to its fallback provider goes on as a job of its own, not as part of the batch', async () => {
    const b = batchOf(['badkey', 'ok']);
    b.deliveries[0]!.fallback = ['other'];
    await add(b);
    await settled(b);
    const handed = reporter.final(b.deliveries[0]!.deliveryId);
    assert.equal(handed?.type, 'rerouted');
    assert.ok(handed?.type === 'rerouted');
    assert.equal(handed.next.plugin, 'other');
    assert.equal(handed.next.batch, undefined);
    assert.equal(handed.next.priorAttempts, undefined);
    assert.equal(reporter.final(b.deliveries[1]!.deliveryId)?.type, 'sent');
  });

  test('a canceled notification: every delivery of its batch is reported canceled, none sent', async () => {
    const b = batchOf(['ok', 'ok', 'ok']);
    await new CancelMarks(redis, prefix).mark(b.deliveries[0]!.notificationId);
    await add(b);
    await settled(b);
    for (const d of b.deliveries) {
      assert.equal(reporter.final(d.deliveryId)?.type, 'canceled');
      assert.equal(calls.get(d.deliveryId), undefined);
    }
  });

  test('sends in flight never exceed the plugin concurrency, over several batches at once', async () => {
    mostInFlight = 0;
    const batches = [
      batchOf(Array(12).fill('ok')),
      batchOf(Array(12).fill('ok')),
      batchOf(Array(12).fill('ok')),
    ];
    await Promise.all(batches.map(add));
    await Promise.all(batches.map(settled));
    assert.ok(mostInFlight <= 4, `at most 4 sends at once (saw ${mostInFlight})`);
    assert.ok(mostInFlight >= 2, 'a batch sends concurrently');
  });

  test('a send slot goes to the next delivery once the provider answers, and the batch ends only once every outcome is written', async () => {
    let letWritesGo!: () => void;
    reporter.writes = new Promise((r) => {
      letWritesGo = r;
    });
    const b = batchOf(Array(12).fill('ok'));
    try {
      await add(b);
      // Concurrency 4: had each slot waited for its delivery's write, only 4 would reach the provider.
      // A send's outcome write starts a few awaits after the provider answers (the sent mark
      // first): wait for both, or the count races the last sends (CI saw 8 of 12 once).
      await waitFor(
        'all 12 sent and their outcomes being written, none written',
        () => b.deliveries.every((d) => calls.get(d.deliveryId) === 1) && reporter.pending === 12,
        { timeoutMs: 3000 },
      );
      assert.equal(reporter.pending, 12, 'each outcome is still being written');
      assert.equal(b.deliveries.filter((d) => reporter.final(d.deliveryId)).length, 0);
      assert.equal(
        await queue.getJobState(b.deliveries[0]!.batch!),
        'active',
        'the batch waits for the writes',
      );
    } finally {
      reporter.writes = undefined;
      letWritesGo();
    }
    await settled(b);
    for (const d of b.deliveries) assert.equal(reporter.final(d.deliveryId)?.type, 'sent');
    await waitFor(
      'the batch job completed',
      async () => (await queue.getJobState(b.deliveries[0]!.batch!)) === 'unknown',
    );
  });

  test('while batches run, the worker takes only a few jobs at once (not its concurrency), then all again', async () => {
    // Concurrency 4: 4 × 4 deliveries held is under one batch, so the floor of 2 batch jobs applies.
    const batches = Array.from({ length: 6 }, () => batchOf(Array(10).fill('ok')));
    let mostActive = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        mostActive = Math.max(mostActive, await queue.getActiveCount());
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all(batches.map(add));
    await Promise.all(batches.map(settled));
    watching = false;
    await watch;
    assert.ok(mostActive <= 2, `at most 2 batch jobs active at once (saw ${mostActive})`);
    // Set back when the last batch job ends, which is after its deliveries' outcomes are reported.
    const worker = (runtime as unknown as { worker: { concurrency: number } }).worker;
    await waitFor('the worker takes its full concurrency again', () => worker.concurrency === 4);
  });

  /**
   * A batch of `tokens` (one `hang,ok`) taken by a worker that is then killed: its connection cut,
   * the job left active under a lock nobody renews. The hung send never returns (the process is
   * gone); the next worker's send of it goes through. `release` lets the hung promise end.
   */
  const killedMidBatch = async (tokens: string[]) => {
    await runtime.close();
    let release!: () => void;
    hanging = new Promise((r) => {
      release = r;
    });
    const own = testRedis();
    const dying = await start(own);
    const b = batchOf(tokens);
    await add(b);
    const hungAt = tokens.indexOf('hang,ok');
    const early = b.deliveries.filter((_, i) => i !== hungAt).map((d) => d.deliveryId);
    await waitFor('the quick ones sent', () => early.every((id) => reporter.final(id)?.type === 'sent'));
    await (dying as unknown as { worker: { close(force: boolean): Promise<void> } }).worker.close(true);
    own.disconnect();
    const stop = async () => {
      release();
      await dying.close();
    };
    return { b, early, hung: b.deliveries[hungAt]!.deliveryId, stop };
  };

  test('a worker killed mid-batch: another one finishes the batch, and what was sent is not sent again', async () => {
    const { b, early, hung, stop } = await killedMidBatch(['ok', 'ok', 'hang,ok', 'ok']);
    runtime = await start();
    await waitFor(
      'the batch recovered',
      async () =>
        reporter.outcomes.some((o) => o.job.deliveryId === hung && o.type === 'sent') &&
        (await queue.getJobState(b.deliveries[0]!.batch!)) === 'unknown',
      { timeoutMs: 20_000 },
    );
    for (const id of early) assert.equal(calls.get(id), 1, 'sent before the kill: not sent again');
    assert.equal(calls.get(hung), 2, 'the hung send, then the one after the recovery');
    assert.equal(await queue.getFailedCount(), 0);
    await stop();
  });

  test('a batch that lost its worker more often than allowed: each delivery goes on in a job of its own, none sent twice', async () => {
    const { b, early, hung, stop } = await killedMidBatch(['ok', 'hang,ok', 'ok']);
    // No stall allowed: BullMQ fails the batch instead of running it again.
    runtime = await start(redis, 0);
    await waitFor(
      'the hung delivery sent by a job of its own',
      () => reporter.outcomes.some((o) => o.job.deliveryId === hung && o.type === 'sent' && !o.job.batch),
      { timeoutMs: 20_000 },
    );
    assert.equal(
      await queue.getJobState(b.deliveries[0]!.batch!),
      'failed',
      'the batch job failed as stalled',
    );
    for (const id of early) assert.equal(calls.get(id), 1, 'sent before the kill: not sent again');
    assert.equal(calls.get(hung), 2);
    assert.ok(
      reporter.outcomes.every(
        (o) => o.type !== 'failed' || !b.deliveries.some((d) => d.deliveryId === o.job.deliveryId),
      ),
      'no delivery of the batch reported failed',
    );
    await stop();
  });

  test('a graceful stop finishes the sends in flight and hands the rest of its batches back, each sent once', async () => {
    const b = batchOf(Array(12).fill('slow'));
    await add(b);
    await waitFor('sends started', () => b.deliveries.some((d) => calls.has(d.deliveryId)));
    await runtime.close();
    const sentBeforeStop = b.deliveries.filter((d) => reporter.final(d.deliveryId)?.type === 'sent').length;
    assert.ok(
      sentBeforeStop < 12,
      `the stop did not wait for the whole batch (${sentBeforeStop} of 12 sent)`,
    );
    const handedBack = await Promise.all(b.deliveries.map((d) => queue.getJobState(d.deliveryId)));
    assert.equal(
      handedBack.filter((state) => state !== 'unknown').length,
      12 - sentBeforeStop,
      'the others wait as jobs of their own',
    );
    runtime = await start();
    await settled(b);
    for (const d of b.deliveries) assert.equal(calls.get(d.deliveryId), 1, 'each sent once');
  });
});
