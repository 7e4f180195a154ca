import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'pg';
import { newId } from '../common/ids';
import {
  explainAnalyze,
  type PlanDatabase,
  planDatabase,
  rowsExamined,
  scansRun,
} from '../testing/plan-rows';
import { NOT_PLANNED_SQL } from './fanout-repository';

const DELIVERED = 200_000;
const CHUNK = 1000;

const userId = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/**
 * Before each chunk a fan-out asks which of its users already have a delivery of the campaign (a
 * chunk read again after a crash). 200,000 deliveries into the campaign, in a partition without
 * fresh statistics (as a new day's partition is until ANALYZE), the question must cost a chunk's
 * worth of index reads, not a scan of the campaign's deliveries, and those in the day's partition
 * alone: partitions are made a week ahead, and probing each for every user cost 105 ms a chunk.
 */
describe('fan-out: which users of a chunk are planned already, deep into a campaign', () => {
  let db: PlanDatabase;
  let c: Client;
  const campaign = newId();
  const other = newId();

  before(async () => {
    db = await planDatabase('not_planned_plan');
    c = db.c;
    // UUIDv7 ids of the last minutes, one a millisecond: today's partition, as a running campaign's.
    const insert = (notification: string, from: number, count: number, ms: number) =>
      c.query(
        `INSERT INTO deliveries (id, notification_id, app_id, user_id, channel, plugin, status, job)
         SELECT (lpad(to_hex($4::bigint + i), 12, '0') || '7' || lpad(to_hex(i % 4096), 3, '0')
                 || '8' || lpad(to_hex(i), 15, '0'))::uuid,
                $1::uuid, '00000000-0000-4000-8000-000000000001',
                ('00000000-0000-4000-8000-' || lpad(to_hex($2::int + i), 12, '0'))::uuid,
                'webhook', 'webhook', 'queued', NULL
           FROM generate_series(0, $3::int - 1) i`,
        [notification, from, count, ms],
      );
    const now = Date.now() - 600_000;
    await insert(campaign, 0, DELIVERED, now);
    await insert(other, 500, 1000, now + DELIVERED + 1);
  });
  after(async () => {
    await db?.close();
  });

  const chunk = Array.from({ length: CHUNK }, (_, i) => userId(DELIVERED - 500 + i)); // half planned already

  test('answers the users with a delivery of that notification, not of another', async () => {
    const { rows } = await c.query<{ user_id: string }>(NOT_PLANNED_SQL, [chunk, campaign]);
    assert.deepEqual(
      rows.map((r) => r.user_id).sort(),
      chunk.slice(0, 500).sort(),
      'the 500 users of the chunk the campaign has reached',
    );
    const early = Array.from({ length: CHUNK }, (_, i) => userId(i));
    const { rows: theirs } = await c.query<{ user_id: string }>(NOT_PLANNED_SQL, [early, other]);
    assert.equal(theirs.length, 500, 'the other notification reached users 500–999 only');
  });

  test('reads about a chunk of rows, not the campaign’s 200,000', async () => {
    const read = rowsExamined(await explainAnalyze(c, NOT_PLANNED_SQL, [chunk, campaign]), 'deliveries');
    assert.ok(read <= 5 * CHUNK, `deliveries read: ${read}`);
  });

  test('probes only the partitions of the campaign’s hours, not the week of partitions made ahead', async () => {
    const plan = await explainAnalyze(c, NOT_PLANNED_SQL, [chunk, campaign]);
    const probes = scansRun(plan, 'deliveries');
    // One partition per user; two if the campaign's hours straddle midnight (UTC).
    assert.ok(probes <= 2 * CHUNK, `partition index scans: ${probes} for ${CHUNK} users`);
  });
});
