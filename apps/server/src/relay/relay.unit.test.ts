/** The relay's schedule and failure handling, with fake sources (no database, no Redis). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadEnv } from '../config/env';
import type { DigestCloser } from '../digest/digest-closer';
import type { DueNotifications } from './due-notifications';
import type { DueSteps } from './due-steps';
import type { OrphanedFanouts } from './orphaned-fanouts';
import type { PendingDeliveries } from './pending-deliveries';
import type { QueueReconciler } from './queue-reconciler';
import { Relay } from './relay';
import { relaySettings } from './relay-settings';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLARION_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
};

function relayWith(env: Record<string, string>, failing: string[] = []) {
  const calls: string[] = [];
  const source = (name: string, found: number) => ({
    name,
    run: async (graceMs: number) => {
      calls.push(`${name}@${graceMs}`);
      if (failing.includes(name)) throw new Error('Redis is away');
      return found;
    },
  });
  const relay = new Relay(
    loadEnv({ ...base, ...env }),
    source('due', 2) as unknown as DueNotifications,
    source('lost', 0) as unknown as QueueReconciler,
    source('pending', 3) as unknown as PendingDeliveries,
    source('fanouts', 1) as unknown as OrphanedFanouts,
    source('steps', 4) as unknown as DueSteps,
    source('digests', 5) as unknown as DigestCloser,
  );
  return { relay, calls };
}

describe('relay', () => {
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

  test('one pass runs due, steps, digests, lost, pending and fan-out sources in that order, with the grace period', async () => {
    const { relay, calls } = relayWith({});
    assert.deepEqual(await relay.runOnce(), {
      due: 2,
      steps: 4,
      lost: 0,
      pending: 3,
      digests: 5,
      fanouts: 1,
    });
    assert.deepEqual(calls, [
      'due@10000',
      'steps@10000',
      'digests@10000',
      'lost@10000',
      'pending@10000',
      'fanouts@10000',
    ]);
  });

  test('each source keeps its own interval: due every 500 ms, the sweep every 1000 ms', async () => {
    const { relay, calls } = relayWith({
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      CLARION_SWEEP_INTERVAL_MS: '1000',
    });
    for (let i = 0; i < 4; i++) await relay.runOnce();
    const count = (name: string) => calls.filter((c) => c.startsWith(`${name}@`)).length;
    assert.equal(count('due'), 4);
    assert.equal(count('steps'), 4);
    assert.equal(count('digests'), 4);
    assert.equal(count('lost'), 2);
    assert.equal(count('pending'), 2);
    assert.equal(count('fanouts'), 2);
    assert.equal((await relay.runOnce(true)).pending, 3, 'run by hand: every source');
  });

  test('a failing source is skipped for this pass; the others still run', async () => {
    const { relay, calls } = relayWith({}, ['lost']);
    const counts = await relay.runOnce();
    assert.deepEqual(counts, { due: 2, steps: 4, digests: 5, pending: 3, fanouts: 1 });
    assert.equal(calls.length, 6);
  });
});
