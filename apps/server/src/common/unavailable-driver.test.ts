import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor } from '@clarion/testkit';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../database/data-source';
import { isDatabaseUnavailable } from './unavailable';

/**
 * What TypeORM really throws when a transaction's connection dies between two statements (a
 * PostgreSQL restart while the group commit holds a transaction): the connection is ended from
 * the server side, here by terminating only this test's own backend.
 */
describe('a transaction whose connection dies: the driver error is unavailability', () => {
  let db: TestDatabase;
  let ds: DataSource;
  before(async () => {
    db = await createTestDatabase('unavailable');
    ds = createDataSource(db.url, 2);
    await ds.initialize();
  });
  after(async () => {
    await ds.destroy();
    await db.drop();
  });

  test('the next statement and the transaction itself fail as "database unavailable" (a 503)', async () => {
    const killer = new Client({ connectionString: db.url });
    await killer.connect();
    let inner: unknown;
    const outer = await ds
      .transaction(async (tx) => {
        const [{ pid }] = (await tx.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        // TypeORM releases the query runner when the dead connection reports its error.
        await waitFor('the query runner released', () => tx.queryRunner?.isReleased);
        inner = await tx.query('SELECT 1').then(
          () => undefined,
          (error: unknown) => error,
        );
        throw inner;
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await killer.end();
    assert.equal((inner as Error | undefined)?.name, 'QueryRunnerProviderAlreadyReleasedError');
    assert.ok(isDatabaseUnavailable(inner), String(inner));
    assert.ok(isDatabaseUnavailable(outer), String(outer));
  });
});
