import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase, waitFor } from '@clarion/testkit';
import { Client } from 'pg';
import { AutovacuumStandIn } from './autovacuum-stand-in';

let db: TestDatabase;
let pg: Client;

before(async () => {
  db = await createTestDatabase('autovacuum');
  pg = new Client({ connectionString: db.url });
  await pg.connect();
});
after(async () => {
  await pg.end();
  await db.drop();
});

/** The statistics collector's counters for a table, once the writing session has flushed them. */
async function counters(table: string): Promise<{ dead: number; mods: number; analyzed: boolean }> {
  await pg.query('SELECT pg_stat_clear_snapshot()');
  const [row] = (
    await pg.query(
      `SELECT n_dead_tup::int AS dead, n_mod_since_analyze::int AS mods,
              (last_analyze IS NOT NULL OR last_vacuum IS NOT NULL) AS analyzed
         FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    )
  ).rows as [{ dead: number; mods: number; analyzed: boolean }];
  return row;
}

test('AutovacuumStandIn: analyses a table grown past the threshold, vacuums one with dead rows, leaves a quiet one alone', async () => {
  const writer = new Client({ connectionString: db.url });
  await writer.connect();
  await writer.query('CREATE TABLE grown (id int PRIMARY KEY)');
  await writer.query('CREATE TABLE churned (id int PRIMARY KEY)');
  await writer.query('CREATE TABLE quiet (id int PRIMARY KEY)');
  await writer.query('INSERT INTO grown SELECT g FROM generate_series(1, 1000) g');
  await writer.query('INSERT INTO churned SELECT g FROM generate_series(1, 1000) g');
  await writer.query('DELETE FROM churned');
  await writer.query('INSERT INTO quiet SELECT g FROM generate_series(1, 10) g');
  // Counters reach the shared statistics when the writing session ends.
  await writer.end();
  await waitFor('the writes counted', async () => (await counters('churned')).dead >= 1000, {
    intervalMs: 50,
  });
  await waitFor('the inserts counted', async () => (await counters('quiet')).mods >= 10, { intervalMs: 50 });

  const pass = await new AutovacuumStandIn(pg).pass();

  assert.deepEqual(pass.vacuumed, ['public.churned']);
  assert.deepEqual(pass.analyzed, ['public.grown']);
  assert.equal((await counters('grown')).mods, 0, 'analysed: no change left since the last analyse');
  assert.equal((await counters('grown')).analyzed, true);
  assert.equal((await counters('churned')).dead, 0, 'vacuumed: no dead rows left');
  assert.equal((await counters('quiet')).analyzed, false, '10 rows is under the threshold of 50');
  // A second pass finds nothing left to do.
  assert.deepEqual(await new AutovacuumStandIn(pg).pass(), { vacuumed: [], analyzed: [] });
});
