import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import type { DataSource } from 'typeorm';
import { NO_PGBOUNCER, OwnPgBouncer, pgbouncerBin } from '../testing/pgbouncer';
import { createDataSource } from './data-source';
import { preparedQuery, useNamedStatements } from './prepared';

const TEXT = 'SELECT $1::int + 1 AS n';

async function open(url: string, named: boolean): Promise<DataSource> {
  const ds = createDataSource(url, 1); // one connection: every query below meets the same session
  await ds.initialize();
  useNamedStatements(ds, named);
  return ds;
}

/** The named statements the session of this one-connection DataSource holds. */
async function statementsOf(ds: DataSource): Promise<string[]> {
  const rows: { name: string }[] = await ds.query('SELECT name FROM pg_prepared_statements ORDER BY name');
  return rows.map((r) => r.name);
}

describe('preparedQuery: named statements, and the setting that turns them off', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('prepared');
  });
  after(() => db.drop());

  test('by default a hot statement is prepared once, by name, on the connection', async () => {
    const ds = await open(db.url, true);
    try {
      assert.deepEqual(await preparedQuery(ds, TEXT, [1]), [{ n: 2 }]);
      await ds.transaction((tx) => preparedQuery(tx, TEXT, [2]));
      const names = await statementsOf(ds);
      assert.equal(names.length, 1);
      assert.match(names[0]!, /^clarion_[0-9a-f]{16}$/);
    } finally {
      await ds.destroy();
    }
  });

  test('off (CLARION_DATABASE_PREPARED_STATEMENTS=false): same answers, no named statement on the connection', async () => {
    const ds = await open(db.url, false);
    try {
      assert.deepEqual(await preparedQuery(ds, TEXT, [1]), [{ n: 2 }]);
      assert.deepEqual(
        await ds.transaction((tx) => preparedQuery(tx, TEXT, [2])),
        [{ n: 3 }],
        'in a transaction too',
      );
      assert.deepEqual(await statementsOf(ds), []);
    } finally {
      await ds.destroy();
    }
  });
});

describe('preparedQuery through PgBouncer in transaction mode', {
  skip: pgbouncerBin() ? false : NO_PGBOUNCER,
}, () => {
  let db: TestDatabase;
  let bouncer: OwnPgBouncer;
  before(async () => {
    db = await createTestDatabase('prepared_bouncer');
    // One server connection shared by every client: what a busy pool does some of the time, every time.
    bouncer = await OwnPgBouncer.start({ poolSize: 1 });
  });
  after(async () => {
    await bouncer?.stop();
    await db?.drop();
  });

  test('named statements break: a second client meets the first one’s statement on the shared server connection; the error names the setting', async () => {
    const [a, b] = [await open(bouncer.urlFor(db.url), true), await open(bouncer.urlFor(db.url), true)];
    try {
      await preparedQuery(a, TEXT, [1]);
      await assert.rejects(
        preparedQuery(b, TEXT, [1]),
        /prepared statement "clarion_[0-9a-f]+" already exists \(is the database behind PgBouncer in transaction mode\? set CLARION_DATABASE_PREPARED_STATEMENTS=false\)/,
      );
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });

  test('with them off, any number of clients run the same statements', async () => {
    const [a, b] = [await open(bouncer.urlFor(db.url), false), await open(bouncer.urlFor(db.url), false)];
    try {
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await preparedQuery(a, TEXT, [i]), [{ n: i + 1 }]);
        assert.deepEqual(await preparedQuery(b, TEXT, [i]), [{ n: i + 1 }]);
        await b.transaction((tx) => preparedQuery(tx, TEXT, [i]));
      }
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  });
});
