import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { createDataSource, MIGRATIONS, runMigrations } from './data-source';

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

  test('deliveries keep the indexes their queries use, without the unused (user_id, created_at) one', async () => {
    const names = await indexes('deliveries');
    assert.ok(!names.includes('deliveries_user'), names.join(', '));
    for (const used of [
      'deliveries_pkey',
      'deliveries_notification',
      'deliveries_user_id_desc',
      'deliveries_pending',
    ])
      assert.ok(names.includes(used), `${used} in ${names.join(', ')}`);
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
