import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { runMigrations } from '../database/data-source';
import { PENDING_DELIVERIES_SQL } from '../relay/pending-deliveries';
import { QUEUED_PAGE_SQL } from '../relay/queue-reconciler';
import { DEAD_DELIVERIES_SQL, EVENTS } from './delivery-queries';
import { PROVIDER_IDS_SQL } from './store/provider-messages';

const DAYS = 15;
const PER_DAY = 100_000;
const USERS = 2_000;
const DAY = 86_400_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  'Subplans Removed'?: number;
  Plans?: PlanNode[];
}

/** Every scan of a table in the plan, with how often it ran (0: pruned at run time, never executed). */
function scans(node: PlanNode, out: { type: string; table: string; loops: number }[] = []) {
  if (node['Relation Name'])
    out.push({ type: node['Node Type'], table: node['Relation Name'], loops: node['Actual Loops'] ?? 0 });
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

/**
 * 1.5 million deliveries (and as many events) over fifteen day partitions: a delivery by id, its
 * events, and a user's newest deliveries are read through indexes of one or two partitions, not
 * by scanning, whatever the number of days kept.
 */
describe('partitioned deliveries: lookups stay index scans of few partitions (3 M rows)', () => {
  let db: TestDatabase;
  let c: Client;
  // Days after the week the migration made ahead: the newest partitions are the loaded ones.
  const start = Math.floor(Date.now() / DAY) * DAY + 10 * DAY;
  const dayName = (d: number) => new Date(start + d * DAY).toISOString().slice(0, 10).replaceAll('-', '');
  let someId = '';
  let userId = '';

  before(async () => {
    db = await createTestDatabase('partition_plans');
    await runMigrations(db.url);
    c = new Client({ connectionString: db.url });
    await c.connect();
    for (let d = 0; d < DAYS; d++) {
      const ms = start + d * DAY;
      const name = dayName(d);
      // Loaded into plain tables, then attached: the attach builds each index in one sort.
      await c.query(
        `CREATE TABLE deliveries_p${name} (LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 80);
         CREATE TABLE delivery_events_p${name} (LIKE delivery_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      );
      // Id i of the day: its millisecond, then i as the "random" bits (UUIDv7 layout, unique).
      await c.query(
        `INSERT INTO deliveries_p${name} (id, notification_id, app_id, user_id, channel, plugin, status, job)
         SELECT x.id, x.id, '00000000-0000-4000-8000-000000000001', ('00000000-0000-4000-8000-' || lpad(to_hex(i % $3), 12, '0'))::uuid,
                'webhook', 'webhook', 'sent', NULL
           FROM generate_series(0, $2::int - 1) i,
                LATERAL (SELECT (lpad(to_hex($1::bigint + i * (86400000 / $2::int)), 12, '0') || '7' || lpad(to_hex(i % 4096), 3, '0')
                                 || '8' || lpad(to_hex(i), 15, '0'))::uuid AS id) x`,
        [ms, PER_DAY, USERS],
      );
      await c.query(
        `INSERT INTO delivery_events_p${name} (delivery_id, status, at) SELECT id, 'sent', created_at FROM deliveries_p${name}`,
      );
      await c.query(
        `ALTER TABLE deliveries ATTACH PARTITION deliveries_p${name}
           FOR VALUES FROM (clarion_uuidv7_floor($1::timestamptz)) TO (clarion_uuidv7_floor($1::timestamptz + interval '1 day'));
         ALTER TABLE delivery_events ATTACH PARTITION delivery_events_p${name}
           FOR VALUES FROM (clarion_uuidv7_floor($1::timestamptz)) TO (clarion_uuidv7_floor($1::timestamptz + interval '1 day'));
         CREATE TABLE provider_messages_p${name} PARTITION OF provider_messages
           FOR VALUES FROM (clarion_uuidv7_floor($1::timestamptz)) TO (clarion_uuidv7_floor($1::timestamptz + interval '1 day'))`.replaceAll(
          '$1::timestamptz',
          `'${new Date(ms).toISOString()}'::timestamptz`,
        ),
      );
    }
    await c.query('ANALYZE deliveries, delivery_events');
    const [row] = (await c.query(`SELECT id, user_id FROM deliveries_p${dayName(9)} OFFSET 5000 LIMIT 1`))
      .rows as [{ id: string; user_id: string }];
    someId = row.id;
    userId = row.user_id;
  });
  after(async () => {
    await c?.end();
    await db?.drop();
  });

  const plan = async (text: string, params: unknown[]): Promise<PlanNode> => {
    const res = await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, params);
    return (res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
  };

  test('the rows are there: 1.5 M deliveries in 15 day partitions, after the week the migration made', async () => {
    const { rows } = await c.query(
      `SELECT count(*)::int AS n, count(DISTINCT tableoid)::int AS parts FROM deliveries WHERE id >= clarion_uuidv7_floor($1)`,
      [new Date(start)],
    );
    assert.deepEqual(rows[0], { n: DAYS * PER_DAY, parts: DAYS });
  });

  test('GET by id: one index scan of one partition, for a literal id and for a prepared (generic) plan', async () => {
    const literal = scans(await plan('SELECT * FROM deliveries WHERE id = $1', [someId]));
    assert.deepEqual(literal, [{ type: 'Index Scan', table: `deliveries_p${dayName(9)}`, loops: 1 }]);
    // The app's statements are prepared; a generic plan prunes when it runs.
    await c.query(`SET plan_cache_mode = force_generic_plan`);
    try {
      const generic = scans(await plan('SELECT * FROM deliveries WHERE id = $1::uuid', [someId]));
      const ran = generic.filter((s) => s.loops > 0);
      assert.deepEqual(ran, [{ type: 'Index Scan', table: `deliveries_p${dayName(9)}`, loops: 1 }]);
      assert.ok(
        generic.every((s) => s.type === 'Index Scan'),
        JSON.stringify(generic),
      );
    } finally {
      await c.query(`RESET plan_cache_mode`);
    }
  });

  test("a user's newest deliveries with their events (the per-user log's query): index scans, few partitions run", async () => {
    // The statement of GET /v1/users/{id}/deliveries, with its history (rows and the steps the row holds).
    const root = await plan(
      `SELECT d.id, d.status, ${EVENTS}
         FROM deliveries d LEFT JOIN notifications n ON n.id = d.notification_id
        WHERE d.user_id = $1 AND ($2::uuid IS NULL OR d.id < $2::uuid)
          AND ($3::text IS NULL OR d.channel = $3) AND ($4::text IS NULL OR d.status = $4)
        ORDER BY d.id DESC LIMIT $5`,
      [userId, null, null, null, 50],
    );
    const all = scans(root);
    const ran = all.filter((s) => s.loops > 0);
    // The empty partitions made ahead may be planned as sequential scans (nothing to read); only
    // the partitions that ran count, and those are read through their indexes.
    assert.ok(
      ran.every((s) => s.type === 'Index Scan' || s.table === 'notifications'),
      `only index scans of deliveries and events run: ${JSON.stringify(ran)}`,
    );
    const deliveryParts = new Set(ran.filter((s) => s.table.startsWith('deliveries_')).map((s) => s.table));
    const eventParts = new Set(ran.filter((s) => s.table.startsWith('delivery_events_')).map((s) => s.table));
    // 50 rows a user a day: the newest day (and at most the one before) answers.
    assert.ok(deliveryParts.size <= 2, `delivery partitions read: ${[...deliveryParts].join(', ')}`);
    assert.ok(eventParts.size <= 2, `event partitions read: ${[...eventParts].join(', ')}`);
    assert.ok(deliveryParts.has(`deliveries_p${dayName(DAYS - 1)}`), [...deliveryParts].join(', '));
  });

  test('the relay, the redrive list and provider callbacks read their small table by index and each delivery by its key', async () => {
    // 30,000 queued deliveries in flight, 200 pending, 200 failed among the 1.5 million.
    const app = '00000000-0000-4000-8000-000000000001';
    await c.query(
      `WITH picked AS (
         SELECT id, row_number() OVER (ORDER BY id) AS k FROM deliveries WHERE id >= clarion_uuidv7_floor($1) ORDER BY id LIMIT 30400),
       marked AS (
         SELECT id, CASE WHEN k <= 200 THEN 'pending' WHEN k <= 400 THEN 'failed' ELSE 'queued' END AS status FROM picked),
       u AS (UPDATE deliveries d SET status = m.status, job = CASE WHEN m.status = 'failed' THEN NULL ELSE '{}'::jsonb END
               FROM marked m WHERE d.id = m.id)
       INSERT INTO unsettled_deliveries (id, app_id, status)
       SELECT id, CASE WHEN status = 'failed' THEN $2::uuid END, status FROM marked`,
      [new Date(start + 9 * DAY), app],
    );
    // Each of the queued ones sent before with a provider id (a callback's lookup).
    await c.query(
      `INSERT INTO provider_messages (delivery_id, provider_message_id)
       SELECT id, 'pm-' || id::text FROM unsettled_deliveries WHERE status = 'queued'`,
    );
    await c.query(`UPDATE deliveries d SET provider_message_id = 'pm-' || d.id::text FROM unsettled_deliveries u
                    WHERE u.id = d.id AND u.status = 'queued'`);
    await c.query('ANALYZE unsettled_deliveries, deliveries, provider_messages');
    const someProviderIds = (
      await c.query(
        `SELECT provider_message_id AS p FROM provider_messages ORDER BY delivery_id DESC LIMIT 3`,
      )
    ).rows.map((r: { p: string }) => r.p);
    // With a grace of 0 every seeded id is younger than it (these days lie ahead): the walk stops at
    // once instead of reading each of the 30,000 in flight to find none old enough.
    const young = scans(await plan(QUEUED_PAGE_SQL, ['00000000-0000-0000-0000-000000000000', '0']));
    assert.equal(
      young.filter((s) => s.table.startsWith('deliveries_p')).reduce((n, s) => n + s.loops, 0),
      0,
      JSON.stringify(young),
    );
    // Each with how many deliveries it reads at least (by key, one loop each).
    const statements: [string, string, unknown[], number][] = [
      // A grace of minus 30 days: these days lie ahead of today, and the walks stop at ids younger than the grace.
      [
        'queue reconciler page',
        QUEUED_PAGE_SQL,
        ['00000000-0000-0000-0000-000000000000', String(-30 * DAY)],
        5000,
      ],
      ['pending sweep', PENDING_DELIVERIES_SQL, [String(-30 * DAY)], 200],
      ['dead-delivery list', DEAD_DELIVERIES_SQL, [app, null, null, null, null, null, null, null, 50], 50],
      ['provider callback lookup', PROVIDER_IDS_SQL, [someProviderIds], 3],
    ];
    for (const [name, text, params, reads] of statements) {
      const ran = scans(await plan(text, params)).filter((s) => s.loops > 0);
      assert.ok(
        ran.filter((s) => s.table.startsWith('deliveries_p')).reduce((n, s) => n + s.loops, 0) >= reads,
        `${name}: deliveries were read, each by its key: ${JSON.stringify(ran)}`,
      );
      assert.ok(
        ran.some(
          (s) => /^(unsettled_deliveries|provider_messages_p)/.test(s.table) && s.type.startsWith('Index'),
        ),
        `${name}: the small table read by index: ${JSON.stringify(ran)}`,
      );
      // A sequential scan is fine only of an empty partition (the days made ahead: nothing to read).
      const scanned = ran.filter((s) => !s.type.startsWith('Index'));
      for (const s of scanned) {
        const { rows: any } = await c.query(`SELECT EXISTS (SELECT 1 FROM "${s.table}") AS has`);
        assert.equal(any[0].has, false, `${name}: ${s.table} scanned whole: ${JSON.stringify(ran)}`);
      }
    }
  });
});
