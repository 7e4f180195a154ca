import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { QueueRegistry } from '../delivery/queue-registry';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface ItemResult {
  status: number;
  id?: string;
  state?: string;
  deliveries?: number;
  suppressed?: number;
  error?: { code: string; message: string; details?: unknown };
}
interface Delivery {
  status: string;
  reason: string | null;
}

const TABLES = ['notifications', 'deliveries', 'event_ids'];
const hook = (mark: string, extra: Record<string, unknown> = {}) => ({
  content: { webhook: { json: { mark } } },
  ...extra,
});

describe('POST /v1/notifications/batch: many notifications, one result per item', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'batch' });
    app = await h.createApp();
    for (const user of ['alice', 'bob']) {
      const put = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(put.status, 201);
    }
    const prefs = await app.call('/v1/users/bob/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'webhook', enabled: false }] },
    });
    assert.equal(prefs.status, 200);
  });
  after(() => h.close());

  const batch = (notifications: unknown, headers: Record<string, string> = {}) =>
    app.call('/v1/notifications/batch', { body: { notifications }, headers });

  test('mixed items get their own status in request order; only the valid ones are stored and sent', async () => {
    const earlier = await app.call('/v1/notifications', {
      body: { to: { userId: 'alice' }, eventId: 'earlier', ...hook('earlier') },
    });
    assert.equal(earlier.status, 202);
    const earlierId = (await json<{ id: string }>(earlier)).id;
    const before = await countRows(h.db.url, TABLES);

    const res = await batch([
      { to: { userId: 'alice' }, eventId: 'b-1', ...hook('first') }, // 0: accepted
      { to: { userId: 'alice' }, eventId: 'b-1', ...hook('first') }, // 1: its repeat in the same batch
      { to: { userId: 'alice' }, eventId: 'earlier', ...hook('earlier') }, // 2: repeat of an earlier request
      { to: { userId: 'alice' }, eventId: 'b-1', ...hook('other body') }, // 3: conflict inside the batch
      { to: { userId: 'alice' }, eventId: 'earlier', ...hook('other body') }, // 4: conflict with the earlier one
      { eventId: 'invalid', ...hook('invalid') }, // 5: no recipient
      { to: { userId: 'bob' }, ...hook('to bob') }, // 6: opted out
      { to: { userId: 'alice' }, content: { webhook: { json: { x: '{{ data.missing }}' } } } }, // 7: template error
      { to: { userId: 'alice' }, ...hook('second') }, // 8: accepted, no eventId
    ]);
    assert.equal(res.status, 207);
    const { results } = await json<{ results: ItemResult[] }>(res);
    assert.deepEqual(
      results.map((r) => r.status),
      [202, 200, 200, 409, 409, 400, 202, 422, 202],
    );
    const [first, repeat, again, conflict, conflictEarlier, invalid, toBob, unrenderable, second] = results;
    assert.deepEqual(
      { state: first!.state, deliveries: first!.deliveries, suppressed: first!.suppressed },
      { state: 'accepted', deliveries: 1, suppressed: 0 },
    );
    assert.deepEqual(repeat, { status: 200, id: first!.id, state: 'duplicate', duplicate: true });
    assert.deepEqual(again, { status: 200, id: earlierId, state: 'duplicate', duplicate: true });
    assert.equal(conflict!.error!.code, 'event_id_conflict');
    assert.deepEqual(conflict!.error!.details, { notificationId: first!.id });
    assert.deepEqual(conflictEarlier!.error!.details, { notificationId: earlierId });
    assert.equal(invalid!.error!.code, 'invalid_request');
    assert.ok(
      (invalid!.error!.details as { path: string }[]).some((d) =>
        d.path.startsWith('body.notifications.5.to'),
      ),
      JSON.stringify(invalid),
    );
    assert.equal(invalid!.id, undefined);
    assert.deepEqual([toBob!.deliveries, toBob!.suppressed], [0, 1]);
    assert.equal(unrenderable!.error!.code, 'template_error');
    assert.equal(second!.state, 'accepted');

    // Stored: the three accepted items (two eventIds claimed: b-1 and none for the others).
    const after = await countRows(h.db.url, TABLES);
    assert.deepEqual(after, {
      notifications: before.notifications! + 3,
      deliveries: before.deliveries! + 3,
      event_ids: before.event_ids! + 1,
    });
    // Sent: alice's two, once each; nothing to bob, whose delivery is suppressed as opted out.
    await h.sandbox.recorder.waitFor(3, { to: 'alice', outcome: 'accepted' }); // `earlier` + the two
    const marks = h.sandbox.recorder
      .list({ to: 'alice' })
      .map((r) => (r.payload as { content: { mark?: string } }).content.mark)
      .sort();
    assert.deepEqual(marks, ['earlier', 'first', 'second']);
    assert.equal(h.sandbox.recorder.count({ to: 'bob' }), 0);
    const bobs = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${toBob!.id}`));
    assert.deepEqual(
      bobs.deliveries.map((d) => [d.status, d.reason]),
      [['suppressed', 'opted_out']],
    );
    await waitFor('both sent', async () => {
      const views = await Promise.all(
        [first!.id, second!.id].map(async (id) =>
          json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`)),
        ),
      );
      return views.every((v) => v.deliveries[0]?.status === 'sent') || undefined;
    });
  });

  test('an envelope that is not a batch is a plain 400 and stores nothing: 1,001 items, not an array, bad JSON', async () => {
    const before = await countRows(h.db.url, TABLES);
    const item = { to: { userId: 'alice' }, ...hook('too many') };
    for (const [what, body] of [
      ['1,001 items', { notifications: Array.from({ length: 1001 }, () => item) }],
      ['not an array', { notifications: item }],
      ['empty', { notifications: [] }],
      ['no envelope', [item]],
      ['bad JSON', '{"notifications": [{"to": '],
    ] as const) {
      const res = await app.call('/v1/notifications/batch', { body });
      assert.equal(res.status, 400, what);
      const answer = await json<{ error: { code: string; message: string } }>(res);
      assert.equal(answer.error.code, 'invalid_request', what);
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
  });

  test('1,000 items are accepted, each stored once', async () => {
    const before = await countRows(h.db.url, ['notifications']);
    const res = await batch(
      Array.from({ length: 1000 }, (_, i) => ({ to: { userId: 'bob' }, eventId: `k-${i}`, ...hook(`${i}`) })),
    );
    assert.equal(res.status, 207);
    const { results } = await json<{ results: ItemResult[] }>(res);
    assert.equal(results.length, 1000);
    assert.ok(results.every((r) => r.status === 202));
    assert.equal(new Set(results.map((r) => r.id)).size, 1000);
    assert.deepEqual(await countRows(h.db.url, ['notifications']), {
      notifications: before.notifications! + 1000,
    });
  });

  test('the items’ deliveries travel in batch jobs of 50, added once the items are stored; each is received once', async () => {
    const res = await batch(
      Array.from({ length: 120 }, (_, i) => ({
        to: { userId: 'alice' },
        eventId: `bj-${i}`,
        ...hook(`bj-${i}`),
      })),
    );
    assert.equal(res.status, 207);
    const { results } = await json<{ results: ItemResult[] }>(res);
    assert.ok(results.every((r) => r.status === 202));
    const rows = await sql<{ batch: string | null }>(
      h.db.url,
      `SELECT d.job->>'batch' AS batch FROM deliveries d WHERE d.notification_id = ANY($1::uuid[])`,
      [results.map((r) => r.id)],
    );
    assert.equal(rows.length, 120);
    const sizes = [...Map.groupBy(rows, (r) => r.batch).values()].map((g) => g.length).sort((a, b) => b - a);
    assert.deepEqual(sizes, [50, 50, 20], 'three batch jobs, named in every row');
    const received = await waitFor('all 120 received', () => {
      const got = h.sandbox.recorder
        .list({ to: 'alice', outcome: 'accepted' })
        .filter((r) => JSON.stringify(r.payload).includes('bj-'));
      return got.length >= 120 ? got : undefined;
    });
    assert.equal(received.length, 120, 'none received twice');
  });

  test('items whose jobs weigh over 16 KB send them at once, each its own job, rather than hold them to the end', async () => {
    const bulky = 'x'.repeat(20_000);
    // Held while the rows are read: a sent delivery's row no longer keeps its job.
    const queue = h.app!.get(QueueRegistry).forPlugin('webhook');
    await queue.pause();
    try {
      const res = await batch([
        { to: { userId: 'alice' }, eventId: 'big-0', content: { webhook: { json: { n: 'big-0', bulky } } } },
        { to: { userId: 'alice' }, eventId: 'big-1', content: { webhook: { json: { n: 'big-1', bulky } } } },
        { to: { userId: 'alice' }, eventId: 'small-0', content: { webhook: { json: { n: 'small-0' } } } },
        { to: { userId: 'alice' }, eventId: 'small-1', content: { webhook: { json: { n: 'small-1' } } } },
      ]);
      assert.equal(res.status, 207);
      const { results } = await json<{ results: ItemResult[] }>(res);
      assert.ok(results.every((r) => r.status === 202));
      const rows = await sql<{ event: string; batch: string | null }>(
        h.db.url,
        `SELECT n.event_id AS event, d.job->>'batch' AS batch
           FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.notification_id = ANY($1::uuid[]) ORDER BY n.event_id`,
        [results.map((r) => r.id)],
      );
      assert.deepEqual(
        rows.map((r) => [r.event, r.batch === null ? 'own job' : 'batch']),
        [
          ['big-0', 'own job'],
          ['big-1', 'own job'],
          ['small-0', 'batch'],
          ['small-1', 'batch'],
        ],
      );
    } finally {
      await queue.resume();
    }
    await waitFor('all 4 received', () =>
      ['big-0', 'big-1', 'small-0', 'small-1'].every(
        (n) =>
          h.sandbox.recorder
            .list({ to: 'alice', outcome: 'accepted' })
            .filter((r) => JSON.stringify(r.payload).includes(`"n":"${n}"`)).length === 1,
      ),
    );
  });

  test('client keys may not use it (403)', async () => {
    const key = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const res = await fetch(`${h.url}/v1/notifications/batch`, {
      method: 'POST',
      headers: { authorization: basic(key.appKey, key.appSecret), 'content-type': 'application/json' },
      body: JSON.stringify({ notifications: [{ to: { userId: 'alice' }, ...hook('client') }] }),
    });
    assert.equal(res.status, 403);
    assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'forbidden');
  });

  test('Idempotency-Key: a repeated batch is replayed, not sent again; the key with another batch is a 409', async () => {
    const items = [
      { to: { userId: 'alice' }, ...hook('idem 1') },
      { to: { userId: 'bob' }, ...hook('idem 2') },
    ];
    const before = await countRows(h.db.url, ['notifications']);
    const first = await batch(items, { 'idempotency-key': 'batch-key-1' });
    assert.equal(first.status, 207);
    const firstBody = await json(first);
    const second = await batch(items, { 'idempotency-key': 'batch-key-1' });
    assert.equal(second.status, 207);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await json(second), firstBody);
    assert.deepEqual(await countRows(h.db.url, ['notifications']), {
      notifications: before.notifications! + 2,
    });
    const other = await batch(items.slice(0, 1), { 'idempotency-key': 'batch-key-1' });
    assert.equal(other.status, 409);
    assert.equal((await json<{ error: { code: string } }>(other)).error.code, 'idempotency_key_reused');
  });

  test('each item counts against the API quota as the request it stands for: over it, an item is a 429', async () => {
    const limited = await h.createApp({ apiQuota: { limit: 3, windowSeconds: 3600 } });
    await limited.call('/v1/users/carl', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/carl` },
    });
    // Two calls used (the PUT and the batch itself): one item fits, the second is over the quota.
    const res = await limited.call('/v1/notifications/batch', {
      body: { notifications: [1, 2].map((n) => ({ to: { userId: 'carl' }, ...hook(`q${n}`) })) },
    });
    assert.equal(res.status, 207);
    const { results } = await json<{ results: ItemResult[] }>(res);
    assert.deepEqual(
      results.map((r) => r.status),
      [202, 429],
    );
    assert.equal(results[1]!.error!.code, 'rate_limited');
  });
});
