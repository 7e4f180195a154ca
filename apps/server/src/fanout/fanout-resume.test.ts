import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@clarion/testkit';
import type { Job } from 'bullmq';
import { AcceptPipeline } from '../ingest/accept-pipeline';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { FanoutProcessor } from './fanout.processor';
import type { FanoutJobData } from './fanout-job';
import { FanoutRepository } from './fanout-repository';
import { FanoutWorker } from './fanout-worker';

const HOUR = 3600;

interface View {
  status: string;
  recipients: number;
  deliveries: { userId: string; status: string; reason: string | null }[];
}

/**
 * A fan-out resumes from its saved cursor after its worker died; the chunk it was writing may be
 * written already. Its users must not be planned twice: not a second cap slot each, not a second
 * suppressed row for a user without a contact.
 */
describe('fan-out resumed over a chunk it had written', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    // Lists of more than 2 ids fan out in chunks (of 1,000 ids for this small content).
    h = await startHarness({ label: 'fanoutresume', env: { CLARION_FANOUT_THRESHOLD: '2' } });
    app = await h.createApp({
      rateLimits: [{ channel: 'webhook', category: 'promo', max: 2, perSeconds: HOUR }],
    });
    for (const [user, body] of [
      ['r1', { webhookUrl: `${h.sandbox.url}/webhook/r1` }],
      ['r2', { webhookUrl: `${h.sandbox.url}/webhook/r2` }],
      ['r3', {}], // no contact: suppressed, a row without a contact id
    ] as const) {
      assert.equal((await app.call(`/v1/users/${user}`, { method: 'PUT', body })).status, 201);
      assert.ok((await app.call(`/v1/users/${user}/topics/resume`, { method: 'PUT' })).ok);
    }
  });
  after(() => h.close());

  /** The fan-out job of notification `id`, to run by hand; `saved` collects the data it saves. */
  const jobFor = (id: string, saved: FanoutJobData[] = [], cursor?: number) =>
    ({
      data: { notificationId: id, appId: app.id, ...(cursor !== undefined ? { cursor } : {}) },
      updateData: async (data: FanoutJobData) => {
        saved.push(data);
      },
      moveToDelayed: async () => undefined,
    }) as unknown as Job<FanoutJobData>;

  /**
   * Sends to `userIds` with the fan-out worker paused and runs `fanOut` on the notification's id
   * meanwhile: the test runs the fan-out by hand. The worker's own run, once resumed, finds it
   * expanded (or runs on from the job's cursor).
   */
  const byHand = async (userIds: string[], fanOut: (id: string) => Promise<void>) => {
    const fanouts = h.app!.get(FanoutWorker).worker!;
    await fanouts.pause();
    try {
      const id = await send({ userIds });
      await fanOut(id);
      return id;
    } finally {
      fanouts.resume();
    }
  };
  /**
   * Runs `run` with the fan-out's chunk writes going through `each` (`n` counts them from 1;
   * `write` does the real one), then puts the real writes back.
   */
  const withChunkWrites = async (
    each: (n: number, write: () => Promise<Set<string>>) => Promise<Set<string>>,
    run: () => Promise<unknown>,
  ) => {
    const store = h.app!.get(FanoutRepository);
    const real = store.writeChunk;
    let n = 0;
    store.writeChunk = (...args) => each(++n, () => real.apply(store, args));
    try {
      await run();
    } finally {
      store.writeChunk = real;
    }
    return n;
  };
  /**
   * Chunk writes (for withChunkWrites) in which chunk 1's waits until chunk 2's has ended (5 s at
   * most: written one by one, chunk 2 would never come first), then does `first` (the real write
   * unless given). `events` records each write's start and end.
   */
  const chunkOneAfterTwo = (
    events: string[] = [],
    first = (write: () => Promise<Set<string>>) => write(),
  ) => {
    const second = Promise.withResolvers<void>();
    return async (n: number, write: () => Promise<Set<string>>) => {
      events.push(`start ${n}`);
      if (n === 1) await Promise.race([second.promise, sleep(5000)]);
      const ids = await (n === 1 ? first(write) : write());
      events.push(`end ${n}`);
      if (n === 2) second.resolve();
      return ids;
    };
  };
  const view = async (id: string) => json<View>(await app.call(`/v1/notifications/${id}`));
  /** Users reached by webhook. */
  const webhookUsers = async (...users: string[]) => {
    for (const user of users) {
      const body = { webhookUrl: `${h.sandbox.url}/webhook/${user}` };
      assert.equal((await app.call(`/v1/users/${user}`, { method: 'PUT', body })).status, 201);
    }
  };
  /** Waits until notification `id` is expanded and `sent` of its deliveries are sent. */
  const expandedAndSent = (id: string, sent: number) =>
    waitFor('expanded and sent', async () => {
      const v = await view(id);
      return v.status === 'accepted' && v.deliveries.filter((d) => d.status === 'sent').length === sent;
    });
  const send = async (to: Record<string, unknown>) => {
    const res = await app.call('/v1/notifications', {
      body: { to, category: 'promo', content: { webhook: { json: { promo: true } } } },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };

  test("a killed worker's fan-out is recovered on the delivery jobs' lock (CLARION_JOB_LOCK_MS), not BullMQ's 30 s", () => {
    const { opts } = h.app!.get(FanoutWorker).worker!;
    assert.equal(opts.lockDuration, h.env.CLARION_JOB_LOCK_MS);
    assert.equal(opts.lockDuration, 10_000);
    assert.equal(opts.stalledInterval, 2500);
    assert.equal(opts.maxStalledCount, h.env.CLARION_JOB_MAX_STALLS);
    assert.equal(opts.concurrency, 2);
  });

  test('the repeated chunk writes no second row, counts no user twice and takes no second cap slot', async () => {
    const id = await send({ topic: 'resume' });
    await expandedAndSent(id, 2);

    // The crash: the chunk is written, the job runs again from before it.
    await sql(h.db.url, `UPDATE notifications SET status = 'fanout' WHERE id = $1`, [id]);
    await h.app!.get(FanoutProcessor).process(jobFor(id));

    const v = await view(id);
    assert.equal(v.status, 'accepted');
    assert.equal(v.recipients, 3, 'each user counted once');
    assert.deepEqual(
      v.deliveries.map((d) => `${d.userId}:${d.status}:${d.reason ?? ''}`).sort(),
      ['r1:sent:', 'r2:sent:', 'r3:suppressed:no_contact'],
      'one row per user, as before the resume',
    );
    // The cap is 2 an hour: the campaign took one slot each, so one more is allowed, not refused.
    const next = await view(await send({ userId: 'r1' }));
    assert.equal(next.deliveries[0]!.reason, null, 'the second slot is still free');
    const third = await view(await send({ userId: 'r1' }));
    assert.equal(third.deliveries[0]!.reason, 'rate_limited', 'the cap still holds');
  });

  test('a list naming users in two adjacent chunks: the second chunk, planned while the first is written, plans them once', async () => {
    for (const [user, body] of [
      ['l1', { webhookUrl: `${h.sandbox.url}/webhook/l1` }],
      ['l2', { webhookUrl: `${h.sandbox.url}/webhook/l2` }],
      ['l3', {}], // no contact: suppressed, a row without a contact id
    ] as const)
      assert.equal((await app.call(`/v1/users/${user}`, { method: 'PUT', body })).status, 201);
    // Chunk 1: l1, l3 and 998 unknown ids; chunk 2: l1 and l3 again, then l2. Chunk 1 is written
    // only once chunk 2 is, so chunk 2 is read and planned before chunk 1 commits.
    const unknown = Array.from({ length: 998 }, (_, i) => `nobody-${i}`);
    let writes = 0;
    const id = await byHand(['l1', 'l3', ...unknown, 'l1', 'l3', 'l2'], async (id) => {
      writes = await withChunkWrites(chunkOneAfterTwo(), () =>
        h.app!.get(FanoutProcessor).process(jobFor(id)),
      );
    });
    assert.equal(writes, 2);
    await expandedAndSent(id, 2);
    const v = await view(id);
    assert.equal(v.recipients, 3, 'each user counted once');
    assert.deepEqual(
      v.deliveries.map((d) => `${d.userId}:${d.status}:${d.reason ?? ''}`).sort(),
      ['l1:sent:', 'l2:sent:', 'l3:suppressed:no_contact'],
      'one row per user',
    );
    // The cap is 2 an hour: the list took one slot of l1's, not two.
    assert.equal((await view(await send({ userId: 'l1' }))).deliveries[0]!.reason, null);
    assert.equal((await view(await send({ userId: 'l1' }))).deliveries[0]!.reason, 'rate_limited');
  });

  test('a failure planning the next chunk surfaces once the chunk being written is committed and its cursor saved; the retry goes on from there', async () => {
    await webhookUsers('f1', 'f2');
    const unknown = Array.from({ length: 999 }, (_, i) => `nobody-${i}`);
    const pipeline = h.app!.get(AcceptPipeline);
    const plan = pipeline.planChunk.bind(pipeline);
    let plans = 0;
    pipeline.planChunk = async (...args) => {
      if (plans++ === 1) throw new Error('Redis went away');
      return plan(...args);
    };
    const saved: FanoutJobData[] = [];
    const id = await byHand(['f1', ...unknown, 'f2'], async (id) => {
      try {
        await withChunkWrites(
          async (_n, write) => {
            await sleep(500); // still writing chunk 1 when chunk 2's planning fails
            return write();
          },
          () => assert.rejects(h.app!.get(FanoutProcessor).process(jobFor(id, saved)), /Redis went away/),
        );
      } finally {
        pipeline.planChunk = plan;
      }
      assert.deepEqual(
        saved.map((d) => d.cursor),
        [1000],
        "chunk 1's cursor was saved before the error surfaced",
      );
      assert.deepEqual(
        (await view(id)).deliveries.map((d) => d.userId),
        ['f1'],
        'chunk 1 is written',
      );
      await h.app!.get(FanoutProcessor).process(jobFor(id, [], 1000)); // BullMQ's retry, from the cursor
    });
    await expandedAndSent(id, 2);
    assert.equal((await view(id)).recipients, 2);
  });

  test('two chunks are written at once, and their cursors are saved in order: a later chunk never saves its cursor before an earlier one is written', async () => {
    await webhookUsers('o1', 'o2', 'o3');
    const unknown = (from: number) => Array.from({ length: 999 }, (_, i) => `nobody-${from + i}`);
    const events: string[] = [];
    const saved: FanoutJobData[] = [];
    await byHand(['o1', ...unknown(0), 'o2', ...unknown(1000), 'o3'], async (id) => {
      await withChunkWrites(chunkOneAfterTwo(events), () =>
        h.app!.get(FanoutProcessor).process(jobFor(id, saved)),
      );
    });
    assert.deepEqual(
      events.slice(0, 3),
      ['start 1', 'start 2', 'end 2'],
      'chunk 2 written while chunk 1 was',
    );
    assert.deepEqual(
      saved.map((d) => d.cursor),
      [1000, 2000, 2001],
      'each cursor saved after the chunks before it',
    );
  });

  test('chunk 1 fails while chunk 2 is written: no cursor is saved past chunk 1, and the retry writes chunk 1 without writing chunk 2 twice', async () => {
    await webhookUsers('e1', 'e2');
    const unknown = Array.from({ length: 999 }, (_, i) => `nobody-${i}`);
    const saved: FanoutJobData[] = [];
    const id = await byHand(['e1', ...unknown, 'e2'], async (id) => {
      // Chunk 1 fails once chunk 2 is written.
      const failing = chunkOneAfterTwo([], () => Promise.reject(new Error('PostgreSQL went away')));
      await withChunkWrites(failing, () =>
        assert.rejects(h.app!.get(FanoutProcessor).process(jobFor(id, saved)), /PostgreSQL went away/),
      );
      assert.deepEqual(saved, [], 'no cursor saved: chunk 1 is not written');
      assert.deepEqual(
        (await view(id)).deliveries.map((d) => d.userId),
        ['e2'],
        "chunk 2's row was written meanwhile",
      );
      await h.app!.get(FanoutProcessor).process(jobFor(id)); // BullMQ's retry, from the start
    });
    await expandedAndSent(id, 2);
    const v = await view(id);
    assert.equal(v.recipients, 2, 'each user counted once');
    assert.deepEqual(v.deliveries.map((d) => d.userId).sort(), ['e1', 'e2']);
  });
});
