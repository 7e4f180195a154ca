/**
 * The relay's lanes with fake sources (no database, no Redis) and mocked timers: each source on
 * its own interval, a slow one holding back no other, none overlapping itself, failures contained,
 * shutdown stopping them all. A source's pass is a promise the test settles when it wants.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { Logger } from '@nestjs/common';
import { loadEnv } from '../config/env';
import type { DigestCloser } from '../digest/digest-closer';
import type { DueNotifications } from './due-notifications';
import type { DueSteps } from './due-steps';
import type { OrphanedFanouts } from './orphaned-fanouts';
import type { PendingDeliveries } from './pending-deliveries';
import type { QueueReconciler } from './queue-reconciler';
import { Relay } from './relay';
import { relaySettings } from './relay-settings';
import type { RelaySource } from './relay-source';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLARION_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
};

/** A source whose passes the test controls: they return `found`, throw, or wait for `release`. */
class FakeSource implements RelaySource {
  /** The grace period each pass was given, one entry per pass started. */
  readonly passes: number[] = [];
  running = 0;
  mostAtOnce = 0;
  failing = false;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly found: number,
  ) {}

  /** Passes from now on wait until `release`. */
  block(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async run(graceMs: number): Promise<number> {
    this.passes.push(graceMs);
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    try {
      if (this.gate) await this.gate;
      if (this.failing) throw new Error('Redis is away');
      return this.found;
    } finally {
      this.running--;
    }
  }
}

function relayWith(env: Record<string, string> = {}) {
  const s = {
    due: new FakeSource('due', 2),
    lost: new FakeSource('lost', 0),
    pending: new FakeSource('pending', 3),
    fanouts: new FakeSource('fanouts', 1),
    steps: new FakeSource('steps', 4),
    digests: new FakeSource('digests', 5),
  };
  const relay = new Relay(
    loadEnv({ ...base, ...env }),
    s.due as unknown as DueNotifications,
    s.lost as unknown as QueueReconciler,
    s.pending as unknown as PendingDeliveries,
    s.fanouts as unknown as OrphanedFanouts,
    s.steps as unknown as DueSteps,
    s.digests as unknown as DigestCloser,
  );
  return { relay, s };
}

/** Lets every pass the timers started run as far as it can (settled promises, not time). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Advances the mocked clock by `ms`, in steps of `step`, letting passes run between ticks. */
async function advance(ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    mock.timers.tick(step);
    await settle();
  }
}

const passes = (source: FakeSource) => source.passes.length;

describe('relay', () => {
  let warnings: string[];

  beforeEach(() => {
    mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
    warnings = [];
    mock.method(Logger.prototype, 'warn', (message: string) => void warnings.push(message));
    mock.method(Logger.prototype, 'log', () => undefined);
  });

  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });

  test('the existing settings drive it: CLARION_SWEEP_INTERVAL_MS, CLARION_SWEEP_AFTER_MS, CLARION_SCHEDULE_CHECK_INTERVAL_MS', () => {
    assert.deepEqual(relaySettings(loadEnv(base)), { sweepEveryMs: 5000, graceMs: 10_000, dueEveryMs: 5000 });
    assert.deepEqual(
      relaySettings(
        loadEnv({
          ...base,
          CLARION_SWEEP_INTERVAL_MS: '1000',
          CLARION_SWEEP_AFTER_MS: '2000',
          CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
        }),
      ),
      { sweepEveryMs: 1000, graceMs: 2000, dueEveryMs: 500 },
    );
  });

  test('run by hand: every source once, with the grace period, and what each re-added', async () => {
    const { relay, s } = relayWith({ CLARION_SWEEP_AFTER_MS: '2000' });
    assert.deepEqual(await relay.runOnce(), {
      due: 2,
      steps: 4,
      digests: 5,
      lost: 0,
      pending: 3,
      fanouts: 1,
    });
    for (const source of Object.values(s)) assert.deepEqual(source.passes, [2000], source.name);
  });

  test('each source keeps its own interval: due, steps and digests every 500 ms, the sweeps every 1200 ms', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1200',
    });
    relay.onApplicationBootstrap();
    await advance(3600);
    for (const due of [s.due, s.steps, s.digests]) assert.equal(passes(due), 7, due.name);
    for (const sweep of [s.lost, s.pending, s.fanouts]) assert.equal(passes(sweep), 3, sweep.name);
    await relay.onApplicationShutdown();
  });

  test('a reconciler pass that does not end holds back no other source: due notifications, steps and digests keep their interval', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1000',
    });
    s.lost.block();
    relay.onApplicationBootstrap();
    await advance(5000);
    assert.equal(s.lost.running, 1, 'the reconciler is still in its first pass');
    for (const due of [s.due, s.steps, s.digests]) assert.equal(passes(due), 10, due.name);
    for (const sweep of [s.pending, s.fanouts])
      assert.equal(passes(sweep), 5, `${sweep.name}: a sweep beside it too`);
    s.lost.release();
    await relay.onApplicationShutdown();
  });

  test('a source never overlaps itself: ticks during a long pass are skipped, the next one after it runs', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1000',
    });
    s.lost.block();
    s.due.block();
    relay.onApplicationBootstrap();
    await advance(5000);
    assert.equal(passes(s.lost), 1, 'four reconciler ticks found its pass running');
    assert.equal(passes(s.due), 1);
    // By hand as well: a source whose lane is in a pass is left out, not run a second time.
    const byHand = await relay.runOnce();
    assert.deepEqual(Object.keys(byHand).sort(), ['digests', 'fanouts', 'pending', 'steps']);
    assert.equal(passes(s.lost), 1);
    s.lost.release();
    s.due.release();
    await settle();
    await advance(1000);
    assert.equal(passes(s.lost), 2, 'the reconciler runs again at its next tick');
    assert.equal(passes(s.due), 3);
    for (const source of Object.values(s)) assert.equal(source.mostAtOnce, 1, source.name);
    await relay.onApplicationShutdown();
  });

  test('a source that throws is logged and tried again at its next tick; the others keep running', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '500',
    });
    s.due.failing = true;
    s.lost.failing = true;
    relay.onApplicationBootstrap();
    await advance(2000);
    for (const source of Object.values(s)) assert.equal(passes(source), 4, source.name);
    assert.equal(warnings.length, 8);
    assert.ok(warnings.includes('due: Redis is away (the next pass tries again)'));
    assert.deepEqual(await relay.runOnce(), { steps: 4, digests: 5, pending: 3, fanouts: 1 }, 'by hand too');
    s.due.failing = false;
    await advance(500);
    assert.equal(passes(s.due), 6, 'it comes back once the failure is over');
    await relay.onApplicationShutdown();
  });

  test('shutdown stops every lane and waits for the passes in progress', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1000',
    });
    s.lost.block();
    s.digests.block();
    relay.onApplicationBootstrap();
    await advance(1000);
    let stopped = false;
    const stopping = relay.onApplicationShutdown().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(stopped, false, 'the reconciler and the digest closer are still in a pass');
    s.lost.release();
    await settle();
    assert.equal(stopped, false, 'the digest closer still is');
    s.digests.release();
    await stopping;
    const before = Object.values(s).map(passes);
    await advance(5000);
    assert.deepEqual(Object.values(s).map(passes), before, 'no lane runs after shutdown');
  });

  test('shutdown gives up on a pass stuck for good after a few seconds, and stops the other lanes', async () => {
    const { relay, s } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1000',
    });
    s.lost.block();
    relay.onApplicationBootstrap();
    await advance(1000);
    let stopped = false;
    const stopping = relay.onApplicationShutdown().then(() => {
      stopped = true;
    });
    await advance(4900);
    assert.equal(stopped, false);
    await advance(100);
    await stopping;
    assert.equal(s.lost.running, 1, 'it waited five seconds, not for ever');
    assert.equal(passes(s.due), 2, 'no lane ran after shutdown began');
    s.lost.release();
  });
});
