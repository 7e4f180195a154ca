import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { DataSource } from 'typeorm';
import { v4, v7 } from 'uuid';
import { addDeliveryPartitions } from '../deliveries/partitions';
import { sql } from '../testing/db';
import { MIGRATIONS } from './data-source';
import { PartitionDeliveries1765090000000 } from './migrations/1765090000000-partition-deliveries';

const DAY = 86_400_000;
const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

/** A data source with the given migrations only (the schema of an installation before this one). */
function dataSource(url: string, migrations: (typeof MIGRATIONS)[number][]): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'clarion_migrations',
    extra: { max: 2 },
  });
}

describe('partitioned deliveries: the migration converts an installation holding rows', () => {
  let db: TestDatabase;
  const now = Date.now();
  const appId = v4();
  const notificationId = v7();
  const contactId = v4();
  // Deliveries of three days: 40 days ago, yesterday, today.
  const ids = {
    old: v7({ msecs: now - 40 * DAY }),
    yesterday: v7({ msecs: now - DAY }),
    today: v7({ msecs: now }),
  };
  const partitionOf = async (table: string, key: string, id: string) =>
    (
      await sql<{ p: string }>(
        db.url,
        `SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${key} = $1`,
        [id],
      )
    )
      .map((r) => r.p)
      .join(',');

  before(async () => {
    db = await createTestDatabase('partition_migration');
    const previous = dataSource(
      db.url,
      MIGRATIONS.filter((m) => m !== PartitionDeliveries1765090000000),
    );
    await previous.initialize();
    await previous.runMigrations({ transaction: 'each' });
    await previous.destroy();
    const all = Object.values(ids);
    await sql(
      db.url,
      `INSERT INTO deliveries (id, notification_id, app_id, contact_id, channel, status, job)
       SELECT id, $2, $3, CASE WHEN id = $4::uuid THEN $5::uuid END, 'webhook', 'sent', '{"k":1}' FROM unnest($1::uuid[]) AS id`,
      [all, notificationId, appId, ids.today, contactId],
    );
    await sql(
      db.url,
      `INSERT INTO delivery_events (delivery_id, status) SELECT id, s FROM unnest($1::uuid[]) AS id, (VALUES ('queued'), ('sent')) v(s)`,
      [all],
    );
  });
  after(async () => {
    await db?.drop();
  });

  test('rows move into the partition of their day, events beside their delivery', async () => {
    const all = dataSource(db.url, MIGRATIONS);
    await all.initialize();
    try {
      assert.deepEqual(
        (await all.runMigrations({ transaction: 'each' })).map((m) => m.name),
        ['PartitionDeliveries1765090000000'],
      );
    } finally {
      await all.destroy();
    }
    const [kind] = await sql<{ d: string; e: string }>(
      db.url,
      `SELECT (SELECT relkind::text FROM pg_class WHERE relname = 'deliveries') AS d,
              (SELECT relkind::text FROM pg_class WHERE relname = 'delivery_events') AS e`,
    );
    assert.deepEqual(kind, { d: 'p', e: 'p' });
    assert.equal(await partitionOf('deliveries', 'id', ids.old), `deliveries_p${dayName(now - 40 * DAY)}`);
    assert.equal(await partitionOf('deliveries', 'id', ids.yesterday), `deliveries_p${dayName(now - DAY)}`);
    assert.equal(await partitionOf('deliveries', 'id', ids.today), `deliveries_p${dayName(now)}`);
    assert.equal(
      await partitionOf('delivery_events', 'delivery_id', ids.old),
      `delivery_events_p${dayName(now - 40 * DAY)},delivery_events_p${dayName(now - 40 * DAY)}`,
    );
    const [row] = await sql<{ job: unknown; status: string }>(
      db.url,
      'SELECT job, status FROM deliveries WHERE id = $1',
      [ids.yesterday],
    );
    assert.deepEqual(row, { job: { k: 1 }, status: 'sent' });
    // A week of partitions is ready ahead.
    const ahead = await sql<{ n: string }>(db.url, `SELECT count(*) AS n FROM pg_class WHERE relname = $1`, [
      `deliveries_p${dayName(now + 7 * DAY)}`,
    ]);
    assert.equal(Number(ahead[0]!.n), 1);
  });

  test('event ids keep counting from the old sequence, and history reads in order', async () => {
    const before = await sql<{ m: string }>(db.url, 'SELECT max(id) AS m FROM delivery_events');
    const [made] = await sql<{ id: string }>(
      db.url,
      `INSERT INTO delivery_events (delivery_id, status) VALUES ($1, 'clicked') RETURNING id`,
      [ids.today],
    );
    assert.ok(BigInt(made!.id) > BigInt(before[0]!.m));
    const history = await sql<{ status: string }>(
      db.url,
      'SELECT status FROM delivery_events WHERE delivery_id = $1 ORDER BY id',
      [ids.today],
    );
    assert.deepEqual(
      history.map((h) => h.status),
      ['queued', 'sent', 'clicked'],
    );
  });

  test('ON CONFLICT DO NOTHING still refuses a second delivery of a notification to a contact and channel', async () => {
    const again = await sql(
      db.url,
      `INSERT INTO deliveries (id, notification_id, app_id, contact_id, channel, status)
       VALUES ($1, $2, $3, $4, 'webhook', 'pending') ON CONFLICT DO NOTHING RETURNING id`,
      [v7({ msecs: now + 1 }), notificationId, appId, contactId],
    );
    assert.equal(again.length, 0);
    const other = await sql(
      db.url,
      `INSERT INTO deliveries (id, notification_id, app_id, contact_id, channel, status)
       VALUES ($1, $2, $3, $4, 'email', 'pending') ON CONFLICT DO NOTHING RETURNING id`,
      [v7({ msecs: now + 2 }), notificationId, appId, contactId],
    );
    assert.equal(other.length, 1);
  });

  test('days ahead get their partitions from the periodic task; a day without one refuses the row', async () => {
    const far = now + 30 * DAY;
    const id = v7({ msecs: far });
    const insert = () =>
      sql(
        db.url,
        `INSERT INTO deliveries (id, notification_id, app_id, channel, status) VALUES ($1, $2, $3, 'webhook', 'pending')`,
        [id, notificationId, appId],
      );
    await assert.rejects(insert(), /no partition of relation "deliveries" found for row/);
    const ds = dataSource(db.url, MIGRATIONS);
    await ds.initialize();
    try {
      // Yesterday to a month ahead: only the days missing are made, the second call makes none.
      assert.equal(await addDeliveryPartitions(ds, new Date(now), 30), 23);
      assert.equal(await addDeliveryPartitions(ds, new Date(now), 30), 0);
    } finally {
      await ds.destroy();
    }
    await insert();
    await sql(db.url, `INSERT INTO delivery_events (delivery_id, status) VALUES ($1, 'queued')`, [id]);
    assert.equal(await partitionOf('deliveries', 'id', id), `deliveries_p${dayName(far)}`);
    assert.equal(await partitionOf('delivery_events', 'delivery_id', id), `delivery_events_p${dayName(far)}`);
  });

  test('the migration reverts to plain tables with every row and index', async () => {
    const ds = dataSource(db.url, MIGRATIONS);
    await ds.initialize();
    try {
      await ds.undoLastMigration({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
    const [counts] = await sql<{ d: string; e: string; kind: string }>(
      db.url,
      `SELECT (SELECT count(*) FROM deliveries) AS d, (SELECT count(*) FROM delivery_events) AS e,
              (SELECT relkind::text FROM pg_class WHERE relname = 'deliveries') AS kind`,
    );
    assert.deepEqual(counts, { d: '5', e: '8', kind: 'r' });
    const indexes = await sql<{ indexname: string }>(
      db.url,
      `SELECT indexname FROM pg_indexes WHERE tablename IN ('deliveries', 'delivery_events') ORDER BY 1`,
    );
    assert.deepEqual(
      indexes.map((i) => i.indexname),
      [
        'deliveries_notification',
        'deliveries_once',
        'deliveries_pending',
        'deliveries_pkey',
        'deliveries_provider_message',
        'deliveries_queued',
        'deliveries_redrivable',
        'deliveries_user_id_desc',
        'delivery_events_delivery',
        'delivery_events_pkey',
      ],
    );
  });
});
