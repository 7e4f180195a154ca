import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { Client } from 'pg';
import { type StoreDatabase, storeDatabase } from '../testing/store-database';
import { ANALYZE_MIN_CHANGED_ROWS, analyzeGrownPartitions, todaysPartitions } from './partition-statistics';
import { RECORD_OUTCOMES_SQL, SEND_RECORDS_SQL } from './store/record-outcomes';

/**
 * The day the test fills: three days ahead, a partition the migration made, so that a run across
 * midnight UTC still finds it (the check is given this day as its "today").
 */
const DAY = new Date(Date.now() + 3 * 86_400_000);
const PARTITION = todaysPartitions(DAY)[0]!;

/** Rows of the day's deliveries partition changed since its last ANALYZE, as the statistics have them. */
async function changedRows(c: Client): Promise<number> {
  const [row] = (await c.query(`SELECT pg_stat_get_mod_since_analyze($1::regclass)::int AS n`, [PARTITION]))
    .rows as [{ n: number }];
  return row.n;
}

/**
 * Adds deliveries `from`..`to` to the day's partition (UUIDv7 ids of the day's floor, then the
 * number), and waits until the statistics count them: a session reports its counts when idle,
 * at most once a second unless told to now.
 */
async function addDeliveries(c: Client, from: number, to: number): Promise<void> {
  const before = await changedRows(c);
  await c.query(
    `INSERT INTO deliveries (id, notification_id, app_id, channel, status, job)
     SELECT (substr(clarion_uuidv7_floor($3::timestamptz)::text, 1, 24) || lpad(to_hex(g), 12, '0'))::uuid,
            gen_random_uuid(), gen_random_uuid(), 'push', 'queued', jsonb_build_object('body', repeat('x', 200))
       FROM generate_series($1::int, $2::int) g`,
    [from, to, DAY],
  );
  await c.query('SELECT pg_stat_force_next_flush()');
  await waitFor('the inserts counted', async () => (await changedRows(c)) >= before + (to - from + 1));
}

/** The part of an `EXPLAIN (FORMAT JSON)` node read here. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** The kinds of the plan's scans of one partition (`Seq Scan`, `Index Scan`, ...), CTEs included. */
function partitionScans(node: PlanNode, partition: string, out: string[] = []): string[] {
  if (node['Relation Name'] === partition && node['Node Type'].endsWith('Scan')) out.push(node['Node Type']);
  for (const child of node.Plans ?? []) partitionScans(child, partition, out);
  return out;
}

/**
 * A connection that prepared the worker's statements while today's partition was nearly empty keeps
 * their generic plans: sequential scans of a partition that then grows. The check analyses the
 * partition once it doubled, and PostgreSQL plans them again with index lookups.
 */
describe('partition statistics: plans made on a near-empty day partition are made again as it fills', () => {
  let s: StoreDatabase;
  let writer: Client;
  let session: Client;

  before(async () => {
    s = await storeDatabase('partition_stats');
    writer = new Client({ connectionString: s.url });
    session = new Client({ connectionString: s.url });
    await writer.connect();
    await session.connect();
  });
  after(async () => {
    await session.end();
    await writer.end();
    await s.close();
  });

  /** The session's plans of the send-records read and the status write, for ids that exist. */
  async function plans(): Promise<{ read: string[]; write: string[] }> {
    const ids = `{${((await writer.query(`SELECT id FROM ${PARTITION} LIMIT 20`)).rows as { id: string }[]).map((r) => r.id).join(',')}}`;
    // The cached plan EXECUTE runs, as JSON (EXPLAIN of EXECUTE shows the prepared statement's plan).
    const plan = async (execute: string) =>
      (
        (await session.query(`EXPLAIN (COSTS OFF, FORMAT JSON) ${execute}`)).rows as [
          { 'QUERY PLAN': [{ Plan: PlanNode }] },
        ]
      )[0]['QUERY PLAN'][0].Plan;
    const read = await plan(`EXECUTE send_records('${ids}')`);
    const write = await plan(
      `EXECUTE record_outcomes('${ids}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '[]', '{}')`,
    );
    return { read: partitionScans(read, PARTITION), write: partitionScans(write, PARTITION) };
  }

  test('a partition that doubled is analysed once; the cached plans then read it through its primary key', async () => {
    await addDeliveries(writer, 1, 20);
    // As a pool's connection does after five runs of a statement: its generic plan, kept.
    await session.query(`SET plan_cache_mode = force_generic_plan`);
    await session.query(`PREPARE send_records(uuid[]) AS ${SEND_RECORDS_SQL}`);
    await session.query(
      `PREPARE record_outcomes(uuid[], text[], text[], int[], text[], text[], text[], uuid[], text[], int[], jsonb, text[]) AS ${RECORD_OUTCOMES_SQL}`,
    );
    const early = await plans();
    assert.ok(early.read.includes('Seq Scan'), `made on 20 rows, the read scans: ${early.read}`);
    assert.ok(early.write.includes('Seq Scan'), `made on 20 rows, the write scans: ${early.write}`);

    assert.deepEqual(await analyzeGrownPartitions(s.db, DAY), [], 'under the minimum: nothing to do');

    await addDeliveries(writer, 21, 5_000);
    const stale = await plans();
    assert.ok(
      stale.read.includes('Seq Scan'),
      'nothing made PostgreSQL plan again: still a scan of 5,000 rows',
    );

    assert.deepEqual(await analyzeGrownPartitions(s.db, DAY), [PARTITION]);
    const fresh = await plans();
    assert.ok(!fresh.read.includes('Seq Scan') && fresh.read.length > 0, `the read: ${fresh.read}`);
    assert.ok(!fresh.write.includes('Seq Scan') && fresh.write.length > 0, `the write: ${fresh.write}`);

    // Analysed at 5,000 rows: the next is due at 10,000, not for another thousand.
    await addDeliveries(writer, 5_001, 5_000 + ANALYZE_MIN_CHANGED_ROWS);
    assert.deepEqual(await analyzeGrownPartitions(s.db, DAY), []);
  });

  /**
   * While another session holds what `lock` takes (in a transaction), the check answers busy; once
   * that session commits, the next check analyses the grown partition.
   */
  async function busyWhileHeld(lock: string): Promise<void> {
    const other = new Client({ connectionString: s.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(lock);
      assert.equal(await analyzeGrownPartitions(s.db, DAY), 'busy');
      await other.query('COMMIT');
      assert.deepEqual(await analyzeGrownPartitions(s.db, DAY), [PARTITION]);
    } finally {
      await other.end();
    }
  }

  test('another process at it: this one answers busy and analyses nothing', async () => {
    await addDeliveries(writer, 10_001, 20_000);
    await busyWhileHeld('SELECT pg_advisory_xact_lock(7400016)');
  });

  test('a partition a vacuum holds is left alone, not waited for (which would cancel autovacuum)', async () => {
    await addDeliveries(writer, 20_001, 45_000);
    // The lock VACUUM and ANALYZE take, and wait for one another on.
    await busyWhileHeld(`LOCK TABLE ${PARTITION} IN SHARE UPDATE EXCLUSIVE MODE`);
  });
});
