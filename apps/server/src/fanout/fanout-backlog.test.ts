import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DELIVERY_BATCH_SIZE } from '@clarion/plugin-sdk';
import { waitFor } from '@clarion/testkit';
import { QueueRegistry } from '../delivery/queue-registry';
import { jobBytesPerRecipient } from '../ingest/job-bytes';
import { withAudience } from '../testing/audience';
import { sql } from '../testing/db';
import { type Harness, json, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';
import { recipientsPerChunk } from './chunk-sizing';
import { FANOUT_CHUNK } from './fanout.constants';

const USERS = 5000;
const MAX_BACKLOG = 1500;

/** Waits until the notification is fully expanded and each of its `total` deliveries is sent. */
const allSent = (app: TestApp, id: string, total: number) =>
  waitFor(
    'every delivery sent',
    async () => {
      const n = await json<{ status: string; summary: Record<string, number> }>(
        await app.call(`/v1/notifications/${id}?limit=1`),
      );
      return n.summary.sent === total && n.status === 'accepted';
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );

/** The notification's delivery rows written so far. */
const rowsOf = async (h: Harness, id: string) =>
  (
    await sql<{ n: number }>(
      h.db.url,
      'SELECT count(*)::int AS n FROM deliveries WHERE notification_id = $1',
      [id],
    )
  )[0]!.n;

/** Chunks go out until the queue holds more than its limit, then the fan-out waits: `expected` rows stay. */
const stopsAt = async (h: Harness, id: string, expected: number, what: string) => {
  await waitFor(what, async () => (await rowsOf(h, id)) >= expected);
  await sleep(3000); // a full wait period and more: nothing is added meanwhile
  assert.equal(await rowsOf(h, id), expected, 'no chunk beyond the limit');
};

/** Every subscriber received the notification once. */
const eachOnce = (h: Harness, id: string, total: number) => {
  const receipts = receiptsById(h.sandbox, { notificationId: id });
  assert.equal(receipts.size, total);
  assert.deepEqual(
    [...receipts.values()].filter((r) => r.accepted !== 1),
    [],
    'no delivery received twice',
  );
};

/**
 * A campaign sent faster than its provider takes it must not pile up as rendered jobs in Redis
 * (an e-mail job carries its HTML): the fan-out waits while the queue it feeds is over
 * CLARION_FANOUT_MAX_BACKLOG, and goes on where it stopped once the queue drains.
 */
describe('fan-out backpressure: CLARION_FANOUT_MAX_BACKLOG', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    ({ h, app } = await withAudience({
      label: 'fanoutbacklog',
      env: { CLARION_FANOUT_MAX_BACKLOG: String(MAX_BACKLOG) },
      users: USERS,
      prefix: 'u',
    }));
  });
  after(() => h.close());

  test('with the provider queue stalled it stops at the limit; once the queue moves it finishes, each user once', async () => {
    const queue = h.app!.get(QueueRegistry).forPlugin('webhook');
    await queue.pause(); // the provider takes nothing: every job stays waiting
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'all' }, content: { webhook: { json: { hello: '{{ user.id }}' } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);

    // Chunks go out until the queue holds more than the limit, then the fan-out waits.
    const expected = Math.ceil((MAX_BACKLOG + 1) / FANOUT_CHUNK) * FANOUT_CHUNK;
    await stopsAt(h, id, expected, 'the first chunks');
    const counts = await queue.getJobCounts('wait', 'prioritized');
    assert.equal(
      Object.values(counts).reduce((a, b) => a + b, 0),
      expected / DELIVERY_BATCH_SIZE,
      'the jobs wait in Redis, a batch job per 50 deliveries',
    );
    const [notification] = await sql<{ status: string }>(
      h.db.url,
      'SELECT status FROM notifications WHERE id = $1',
      [id],
    );
    assert.equal(notification!.status, 'fanout', 'still expanding');
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(
      metrics,
      /clarion_fanout_backlog_waits_total\{[^}]*plugin="webhook"[^}]*\} [1-9]/,
      'the waits are counted',
    );

    await queue.resume();
    await allSent(app, id, USERS);
    eachOnce(h, id, USERS);
  });

  test('jobs delayed for a time (quiet hours, send times, backoff) do not count: with more of them than the limit a campaign still goes out at once', async () => {
    const queue = h.app!.get(QueueRegistry).forPlugin('webhook');
    // Stand-ins for deliveries held until tomorrow: jobs that cannot run for an hour.
    const held = Array.from({ length: MAX_BACKLOG + 500 }, (_, i) => ({
      name: 'held',
      data: { heldStandIn: i },
      opts: { jobId: `held-stand-in-${i}`, delay: 3_600_000 },
    }));
    await queue.addBulk(held);
    try {
      assert.equal(await queue.getDelayedCount(), MAX_BACKLOG + 500);
      const res = await app.call('/v1/notifications', {
        body: { to: { topic: 'all' }, content: { webhook: { json: { again: '{{ user.id }}' } } } },
      });
      assert.equal(res.status, 202);
      const { id } = await json<{ id: string }>(res);
      // Counting the held jobs, the fan-out would wait for them for the hour.
      await allSent(app, id, USERS);
    } finally {
      await Promise.all(held.map((j) => queue.remove(j.opts.jobId)));
    }
  });
});

/**
 * The same wait, by bytes: a campaign's jobs carry their rendered content, and 100,000 newsletters
 * of 50 KB would be 5 GB of Redis. CLARION_FANOUT_MAX_BACKLOG_MB bounds what the queue holds of
 * them, as estimated from the content before rendering.
 */
describe('fan-out backpressure by bytes: CLARION_FANOUT_MAX_BACKLOG_MB', () => {
  const SUBSCRIBERS = 1500;
  let h: Harness;
  let app: TestApp;
  before(async () => {
    ({ h, app } = await withAudience({
      label: 'fanoutbytes',
      env: { CLARION_FANOUT_MAX_BACKLOG_MB: '1' },
      users: SUBSCRIBERS,
      prefix: 'b',
    }));
  });
  after(() => h.close());

  test('20 KB jobs: one chunk sized by the content goes out, then the fan-out waits; it finishes once the queue moves', async () => {
    const content = { webhook: { json: { hello: '{{ user.id }}', body: 'x'.repeat(20_000) } } };
    // 4 MB chunks of 20 KB jobs: about 200 recipients, and a backlog of 1 MB holds about 50.
    const chunk = recipientsPerChunk(jobBytesPerRecipient({ contents: content }));
    assert.ok(chunk > 150 && chunk < 250, `chunk ${chunk}`);
    const queue = h.app!.get(QueueRegistry).forPlugin('webhook');
    await queue.pause();
    const res = await app.call('/v1/notifications', { body: { to: { topic: 'all' }, content } });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    await stopsAt(h, id, chunk, 'the first chunk');

    await queue.resume();
    await allSent(app, id, SUBSCRIBERS);
    eachOnce(h, id, SUBSCRIBERS);
  });
});
