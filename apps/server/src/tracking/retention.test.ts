import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { v7 } from 'uuid';
import { uuidv7Floor } from '../common/ids';
import { loadEnv } from '../config/env';
import { createDataSource } from '../database/data-source';
import { sql } from '../testing/db';
import { type Harness, startHarness } from '../testing/harness';
import { Retention } from './retention';

const DAY = 86_400_000;

describe('retention: rows older than the cut go, in batches; newer rows stay', () => {
  let h: Harness;
  let ds: DataSource;
  let appId: string;
  before(async () => {
    h = await startHarness({ label: 'retention', role: 'api' });
    appId = (await h.createApp()).id;
    ds = createDataSource(h.db.url, 4);
    await ds.initialize();
  });
  after(async () => {
    await ds.destroy();
    await h.close();
  });

  /** n notifications with one delivery and two events each, created `ageDays` ago (ids and timestamps of that time). */
  async function seed(n: number, ageDays: number, tag: string): Promise<void> {
    const at = Date.now() - ageDays * DAY;
    // The day partitions of that time (made a week ahead in production; these days are past).
    await sql(
      h.db.url,
      `SELECT clarion_add_delivery_partitions(($1::timestamptz AT TIME ZONE 'UTC')::date, ($1::timestamptz AT TIME ZONE 'UTC')::date + 1)`,
      [new Date(at)],
    );
    const ids = Array.from({ length: n }, (_, i) => ({ n: v7({ msecs: at + i }), d: v7({ msecs: at + i }) }));
    await sql(
      h.db.url,
      `INSERT INTO notifications (id, app_id, status, priority, request, created_at)
       SELECT id, $2, 'accepted', 'normal', '{}', $3 FROM unnest($1::uuid[]) AS id`,
      [ids.map((x) => x.n), appId, new Date(at)],
    );
    await sql(
      h.db.url,
      `INSERT INTO deliveries (id, notification_id, app_id, channel, status, reason, created_at)
       SELECT d, n, $3, 'webhook', 'failed', $4, $5 FROM unnest($1::uuid[], $2::uuid[]) AS x(d, n)`,
      [ids.map((x) => x.d), ids.map((x) => x.n), appId, tag, new Date(at)],
    );
    // Failed deliveries are redrivable (unsettled), each with the provider's id for its callbacks.
    await sql(
      h.db.url,
      `WITH u AS (INSERT INTO unsettled_deliveries (id, app_id, status) SELECT d, $2, 'failed' FROM unnest($1::uuid[]) AS d)
       INSERT INTO provider_messages (delivery_id, provider_message_id) SELECT d, $3 || d::text FROM unnest($1::uuid[]) AS d`,
      [ids.map((x) => x.d), appId, `pm-${tag}-`],
    );
    await sql(
      h.db.url,
      `INSERT INTO delivery_events (delivery_id, status, at) SELECT d, s, $2 FROM unnest($1::uuid[]) AS d, (VALUES ('queued'), ('sent')) AS v(s)`,
      [ids.map((x) => x.d), new Date(at)],
    );
    await sql(
      h.db.url,
      `INSERT INTO event_ids (app_id, event_id, notification_id, body_hash, created_at)
       SELECT $2, 'evt-' || n::text, n, 'h', $3 FROM unnest($1::uuid[]) AS n`,
      [ids.map((x) => x.n), appId, new Date(at)],
    );
  }

  const count = async (table: string, where = 'true') =>
    Number((await sql<{ n: string }>(h.db.url, `SELECT count(*) AS n FROM ${table} WHERE ${where}`))[0]!.n);

  test('a UUIDv7 floor sorts below every id made at or after that time, above every id made before', () => {
    const t = new Date('2026-06-01T00:00:00.000Z');
    const floor = uuidv7Floor(t);
    assert.ok(v7({ msecs: t.getTime() }) >= floor);
    assert.ok(v7({ msecs: t.getTime() - 1 }) < floor);
  });

  test('30 days: 250 old notifications, deliveries and events are deleted in batches of 100; the 40 recent ones and their events remain', async () => {
    await seed(250, 45, 'old');
    await seed(40, 5, 'new');
    const retention = new Retention(
      ds,
      loadEnv({ ...h.childEnv(), CLARION_RETENTION_DAYS: '30', CLARION_RETENTION_BATCH: '100' }),
    );
    const result = await retention.prune(new Date(), 30, 100);
    assert.ok(result);
    assert.equal(result.deliveries, 250);
    assert.equal(result.deliveryEvents, 500);
    // The old day went as whole partitions (a DROP, not row deletes); the recent days' partitions stay.
    assert.ok(result.partitions >= 1, `partitions: ${result.partitions}`);
    const partitionsLeft = await sql<{ name: string }>(
      h.db.url,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'deliveries'::regclass`,
    );
    const oldDay = new Date(Date.now() - 45 * DAY).toISOString().slice(0, 10).replaceAll('-', '');
    const newDay = new Date(Date.now() - 5 * DAY).toISOString().slice(0, 10).replaceAll('-', '');
    const names = partitionsLeft.map((p) => p.name);
    assert.ok(!names.includes(`deliveries_p${oldDay}`), names.join(', '));
    assert.ok(names.includes(`deliveries_p${newDay}`), names.join(', '));
    assert.equal(result.notifications, 250);
    assert.ok(result.batches >= 3 + 3 + 1, `batches: ${result.batches}`);
    assert.equal(await count('deliveries', `reason = 'old'`), 0);
    assert.equal(await count('deliveries', `reason = 'new'`), 40);
    assert.equal(await count('delivery_events'), 80);
    // The day's provider ids went with it (a partition of their own), and its dead deliveries' unsettled rows.
    assert.equal(await count('provider_messages', `provider_message_id LIKE 'pm-old-%'`), 0);
    assert.equal(await count('provider_messages', `provider_message_id LIKE 'pm-new-%'`), 40);
    assert.equal(await count('unsettled_deliveries'), 40);
    assert.equal(await count('notifications'), 40);
    // Event ids are kept for the de-duplication window (168 h by default) and dropped after the cut.
    assert.equal(result.eventIds, 250);
    assert.equal(await count('event_ids'), 40);
    // A second pass finds nothing more.
    const again = await retention.prune(new Date(), 30, 100);
    assert.deepEqual([again!.deliveries, again!.notifications, again!.eventIds], [0, 0, 0]);
  });

  test('stats rollups: hours wholly older than CLARION_STATS_RETENTION_DAYS go, in batches; newer ones stay; 0 keeps all', async () => {
    const hour = (daysAgo: number, plusHours = 0) =>
      new Date(Math.floor((Date.now() - daysAgo * DAY) / 3_600_000) * 3_600_000 + plusHours * 3_600_000);
    const buckets = [hour(402), hour(401), hour(401, 1), hour(399), hour(1)];
    for (const [i, bucket] of buckets.entries()) {
      await sql(
        h.db.url,
        `INSERT INTO delivery_stats (bucket, app_id, channel, plugin, template, category, metric, reason, n)
         VALUES ($1, $2, 'webhook', 'webhook', '', '', 'requested', '', $3)`,
        [bucket, appId, i + 1],
      );
      await sql(
        h.db.url,
        `INSERT INTO delivery_stats_dim (bucket, app_id, dim, metric, reason, n) VALUES ($1, $2, '', 'requested', '', $3)`,
        [bucket, appId, i + 1],
      );
    }
    const keepAll = new Retention(ds, loadEnv({ ...h.childEnv(), CLARION_STATS_RETENTION_DAYS: '0' }));
    assert.equal((await keepAll.prune(new Date(), 30, 2))!.statsRows, 0);
    assert.equal(await count('delivery_stats'), 5);

    const retention = new Retention(ds, loadEnv({ ...h.childEnv(), CLARION_STATS_RETENTION_DAYS: '400' }));
    const result = await retention.prune(new Date(), 30, 2);
    assert.equal(result!.statsRows, 6, 'the three hours over 400 days old, from both tables');
    for (const table of ['delivery_stats', 'delivery_stats_dim']) {
      const left = await sql<{ n: string }>(h.db.url, `SELECT n FROM ${table} ORDER BY bucket`);
      assert.deepEqual(
        left.map((r) => Number(r.n)),
        [4, 5],
        `${table}: 399 days and 1 day old stay`,
      );
    }
  });

  test('only one process prunes at a time (advisory lock); days = 0 never schedules', async () => {
    const env = loadEnv({ ...h.childEnv(), CLARION_RETENTION_DAYS: '30' });
    const holder = await ds.createQueryRunner();
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(7400007)');
    try {
      assert.equal(await new Retention(ds, env).prune(new Date(), 30, 100), null);
    } finally {
      await holder.query('SELECT pg_advisory_unlock(7400007)');
      await holder.release();
    }
    const off = new Retention(ds, loadEnv({ ...h.childEnv(), CLARION_RETENTION_DAYS: '0' }));
    off.onApplicationBootstrap();
    await off.onApplicationShutdown();
  });
  test('an old notification with an escalation step still waiting is kept until the step is settled', async () => {
    const at = Date.now() - 45 * DAY;
    const [n, u] = [v7({ msecs: at }), v7()];
    await sql(h.db.url, `INSERT INTO users (id, app_id, external_id) VALUES ($1, $2, 'late-step')`, [
      u,
      appId,
    ]);
    await sql(
      h.db.url,
      `INSERT INTO notifications (id, app_id, status, priority, request, created_at) VALUES ($1, $2, 'accepted', 'normal', '{}', $3)`,
      [n, appId, new Date(at)],
    );
    await sql(
      h.db.url,
      `INSERT INTO notification_steps (notification_id, app_id, user_id, step, channel, due_at) VALUES ($1, $2, $3, 1, 'webhook', now() + interval '1 day')`,
      [n, appId, u],
    );
    const retention = new Retention(ds, loadEnv({ ...h.childEnv(), CLARION_RETENTION_DAYS: '30' }));
    await retention.prune(new Date(), 30, 100);
    assert.equal(await count('notifications', `id = '${n}'`), 1, 'kept while its step waits');
    await sql(h.db.url, `UPDATE notification_steps SET status = 'planned' WHERE notification_id = $1`, [n]);
    await retention.prune(new Date(), 30, 100);
    assert.equal(await count('notifications', `id = '${n}'`), 0);
    assert.equal(await count('notification_steps', `notification_id = '${n}'`), 0, 'its steps went with it');
  });
});
