import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { runMigrations } from '../database/data-source';
import { DUE_NOTIFICATIONS_SQL } from '../relay/due-notifications';
import { ORPHANED_FANOUTS_SQL } from '../relay/orphaned-fanouts';
import { OVERDUE_COUNT_SQL, SCHEDULED_COUNT_SQL } from './notification-repository';

const SENT = 200_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every read of `notifications` in the plan: how, and through which index. */
function notificationScans(node: PlanNode, out: string[] = []): string[] {
  if (node['Relation Name'] === 'notifications' && node['Node Type'] !== 'ModifyTable')
    out.push(`${node['Node Type']}${node['Index Name'] ? ` on ${node['Index Name']}` : ''}`);
  for (const child of node.Plans ?? []) notificationScans(child, out);
  return out;
}

/**
 * What asks about the notifications still in progress (the scheduled gauges at every /metrics
 * scrape, the relay's due and orphaned fan-out passes) reads the few rows in progress through
 * their partial index, not the month of sent notifications around them.
 */
describe('notifications in progress are found without reading the sent ones (200,000 rows)', () => {
  let db: TestDatabase;
  let c: Client;

  before(async () => {
    db = await createTestDatabase('in_progress_plans');
    await runMigrations(db.url);
    c = new Client({ connectionString: db.url });
    await c.connect();
    const app = '00000000-0000-4000-8000-000000000001';
    await c.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'plans', 'x')`, [app]);
    await c.query(
      `INSERT INTO notifications (id, app_id, status, priority, request, created_at)
       SELECT gen_random_uuid(), $1, 'accepted', 'normal', '{}', now() - g * interval '10 seconds' FROM generate_series(1, $2::int) g`,
      [app, SENT],
    );
    await c.query(
      `INSERT INTO notifications (id, app_id, status, priority, request, send_at, created_at)
       SELECT gen_random_uuid(), $1, s, 'normal', '{}', now() + (g - 30) * interval '1 minute', now() - interval '1 hour'
         FROM generate_series(1, 60) g, (VALUES ('scheduled'), ('fanout')) v(s)`,
      [app],
    );
    await c.query('ANALYZE notifications');
  });
  after(async () => {
    await c?.end();
    await db?.drop();
  });

  const plan = async (text: string, params: unknown[] = []): Promise<string[]> => {
    await c.query('BEGIN'); // the due pass updates: its EXPLAIN ANALYZE is rolled back
    try {
      const res = await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
      return notificationScans((res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan);
    } finally {
      await c.query('ROLLBACK');
    }
  };

  for (const [name, sql, params] of [
    ['the scheduled gauge', SCHEDULED_COUNT_SQL, []],
    ['the overdue gauge', OVERDUE_COUNT_SQL, []],
    ["the relay's orphaned fan-outs", ORPHANED_FANOUTS_SQL, ['60000']],
    ["the relay's due notifications", DUE_NOTIFICATIONS_SQL, []],
  ] as const)
    test(`${name}: through notifications_in_progress only`, async () => {
      const reads = await plan(sql, [...params]);
      assert.ok(reads.length > 0, 'it reads notifications');
      for (const read of reads.filter((r) => !r.startsWith('Index Scan on notifications_pkey')))
        assert.match(read, /on notifications_in_progress$/, `${name} read: ${reads.join(', ')}`);
    });

  test('the counts are those of the rows in progress', async () => {
    const { rows } = await c.query(SCHEDULED_COUNT_SQL);
    assert.equal(rows[0].n, 2 * 30); // send_at in the future: 30 of each status
  });
});
