import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { addDeliveryPartitions } from '../deliveries/partitions';
import { createDataSource, MIGRATIONS, runMigrations } from './data-source';
import { UNANALYSED_COLUMNS } from './migrations/1765200000018-delivery-job-statistics';

describe('migrations (real PostgreSQL)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('migrations');
  });
  after(async () => {
    await db.drop();
  });

  const indexes = async (table: string): Promise<string[]> => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      const rows: { indexname: string }[] = await ds.query(
        'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname',
        [table],
      );
      return rows.map((r) => r.indexname);
    } finally {
      await ds.destroy();
    }
  };

  test('all apply in order on an empty database, and a second run applies nothing', async () => {
    const applied = await runMigrations(db.url);
    assert.equal(applied.length, MIGRATIONS.length);
    assert.deepEqual(await runMigrations(db.url), []);
  });

  test('deliveries keep the indexes their queries use, and none on a column a status move changes', async () => {
    // Status, provider id and time of update are indexed in unsettled_deliveries and
    // provider_messages instead, so a status update is HOT (migration 1765200000014).
    assert.deepEqual(await indexes('deliveries'), [
      'deliveries_notification',
      'deliveries_pkey',
      'deliveries_user_id_desc',
    ]);
    assert.deepEqual(await indexes('unsettled_deliveries'), [
      'unsettled_deliveries_pending',
      'unsettled_deliveries_pkey',
      'unsettled_deliveries_redrivable',
    ]);
    assert.deepEqual(await indexes('provider_messages'), ['provider_messages_id']);
  });

  test('delivery jobs are compressed with lz4: the table, its partitions, and partitions made later', async () => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      // Ten days on: partitions the migrations did not make.
      assert.ok((await addDeliveryPartitions(ds, new Date(Date.now() + 10 * 86_400_000))) > 0);
      const rows: { table: string; compression: string }[] = await ds.query(
        `SELECT c.relname AS table, a.attcompression AS compression
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'job'
          WHERE c.relname = 'deliveries' OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'deliveries'::regclass)`,
      );
      assert.ok(rows.length > 10, `the table and its partitions: ${rows.length}`);
      assert.deepEqual(
        rows.filter((r) => r.compression !== 'l'),
        [],
        'every one lz4',
      );
    } finally {
      await ds.destroy();
    }
  });

  test('payload columns and the stored job get no planner statistics: the table, its partitions, and partitions made later', async () => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      // Eleven days on: partitions neither the migrations nor the test before made.
      assert.ok((await addDeliveryPartitions(ds, new Date(Date.now() + 11 * 86_400_000))) > 0);
      const rows: { table: string; column: string; target: number }[] = await ds.query(
        `SELECT c.relname AS table, a.attname AS column, a.attstattarget::int AS target
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = ANY($1::text[])
          WHERE c.relname = 'deliveries' OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'deliveries'::regclass)`,
        [[...UNANALYSED_COLUMNS]],
      );
      assert.ok(rows.length > 40, `the table and its partitions, four columns each: ${rows.length}`);
      assert.deepEqual(
        rows.filter((r) => r.target !== 0),
        [],
        'every one 0',
      );
    } finally {
      await ds.destroy();
    }
  });

  test('every migration reverts, and the schema can be built again after', async () => {
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    try {
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      const [{ n }] = (await ds.query(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'clarion_migrations'`,
      )) as [{ n: number }];
      assert.equal(n, 0, 'no table left behind');
    } finally {
      await ds.destroy();
    }
    assert.equal((await runMigrations(db.url)).length, MIGRATIONS.length);
    assert.ok(!(await indexes('deliveries')).includes('deliveries_user'));
  });
});
