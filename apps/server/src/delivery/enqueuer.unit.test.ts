/**
 * The enqueuer's bookkeeping with in-memory fakes (PostgreSQL, the plugin queue, the step
 * listeners): which deliveries it marks queued, and which it only reports. Its real behaviour with
 * Redis away and back is in resilience/redis-outage.test.ts and relay/queue-reconciler.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeJob } from '@clarion/plugin-sdk/testing';
import type { DataSource } from 'typeorm';
import type { RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { type EnqueueItem, Enqueuer } from './enqueuer';
import type { QueueRegistry } from './queue-registry';

function fakes() {
  const state = {
    /** Each statement run against PostgreSQL, with its delivery ids. */
    statements: [] as string[][],
    added: [] as string[],
    steps: [] as string[],
    redisAway: false,
    postgresAway: false,
  };
  const db = {
    query: async (_sql: string, params: unknown[]) => {
      if (state.postgresAway) throw new Error('connection terminated');
      state.statements.push([...(params[0] as string[])].sort());
      return [];
    },
  };
  const queues = {
    forPlugin: () => ({
      addBulk: async (jobs: { data: { deliveryId: string } }[]) => {
        if (state.redisAway) throw new Error('connect ECONNREFUSED');
        state.added.push(...jobs.map((j) => j.data.deliveryId));
        return [];
      },
    }),
  };
  const steps = { emit: (list: RecordedStep[]) => state.steps.push(...list.map((s) => s.deliveryId)) };
  const enqueuer = new Enqueuer(
    db as unknown as DataSource,
    queues as unknown as QueueRegistry,
    { get: () => undefined } as unknown as PluginRegistry,
    steps as unknown as StepRecorded,
  );
  return { enqueuer, state };
}

const item = (id: string, writtenQueued?: boolean): EnqueueItem => ({
  job: makeJob({
    deliveryId: id,
    plugin: 'webhook',
    channel: 'webhook',
    address: { kind: 'url', url: 'https://hooks.example/x' },
  }),
  delayMs: 0,
  ...(writtenQueued === undefined ? {} : { writtenQueued }),
});

describe('the enqueuer (in-memory fakes)', () => {
  test('rows written queued (the request path) are put on the queue without a PostgreSQL round trip', async () => {
    const f = fakes();
    const ok = await f.enqueuer.enqueue([item('a', true), item('b', true)]);
    assert.deepEqual(ok, [true, true]);
    assert.deepEqual(f.state.added.sort(), ['a', 'b']);
    assert.deepEqual(f.state.statements, [], 'nothing to mark');
    assert.deepEqual(f.state.steps.sort(), ['a', 'b'], 'listeners still hear that they were queued');
  });

  test('in a mixed batch only the pending rows are marked queued', async () => {
    const f = fakes();
    const ok = await f.enqueuer.enqueue([item('a', true), item('p1'), item('p2', false)]);
    assert.deepEqual(ok, [true, true, true]);
    assert.deepEqual(f.state.statements, [['p1', 'p2']]);
    assert.deepEqual(f.state.steps.sort(), ['a', 'p1', 'p2']);
  });

  test('Redis away: every item answers false, nothing is marked or reported', async () => {
    const f = fakes();
    f.state.redisAway = true;
    const ok = await f.enqueuer.enqueue([item('a', true), item('p')]);
    assert.deepEqual(ok, [false, false]);
    assert.deepEqual(f.state.statements, []);
    assert.deepEqual(f.state.steps, []);
  });

  test('PostgreSQL away after the add: the jobs count as queued; only the rows written queued are reported', async () => {
    const f = fakes();
    f.state.postgresAway = true;
    const ok = await f.enqueuer.enqueue([item('a', true), item('p')]);
    assert.deepEqual(
      ok,
      [true, true],
      'the jobs are on the queue (a pending row is re-added by the relay, a no-op)',
    );
    assert.deepEqual(f.state.steps, ['a'], 'the pending row was not marked, so its step is not reported');
  });
});
