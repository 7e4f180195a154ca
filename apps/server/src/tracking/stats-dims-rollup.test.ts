import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { rows } from '../database/rows';
import { dimensionKey } from '../deliveries/stats-rollup';
import { recordOutcomes } from '../deliveries/store/record-outcomes';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../testing/store-database';
import { StatsDimsRollup } from './stats-dims-rollup';
import { type StatsFilters, StatsRepository } from './stats-repository';

const HOUR = 3_600_000;

/**
 * The per-dimension stats rows are derived once an hour has closed; GET /v1/stats must answer
 * the same counts before, during and after that, whichever table they come from.
 */
describe('stats dimension rows rolled up from the full rollup', () => {
  let store: StoreDatabase;
  let db: DataSource;
  let stats: StatsRepository;
  let rollup: StatsDimsRollup;
  let appId: string;
  // A fixed hour in the past, so the test does not depend on the clock: H is "now"'s hour.
  const H = Date.UTC(2026, 0, 5, 12);
  const at = (hours: number) => new Date(H + hours * HOUR);

  before(async () => {
    store = await storeDatabase('stats_dims');
    db = store.db;
    appId = store.appId;
    stats = new StatsRepository(db);
    // The one setting it reads; its passes are run by hand here.
    rollup = new StatsDimsRollup(db, { CLARION_STATS_ROLLUP_INTERVAL_MS: 60_000 } as Env);
    // Rolled up until three hours before H (as if the workers had stopped then).
    await db.query(`UPDATE stats_dims_rolled_up SET until = $1`, [at(-3)]);
  });
  after(async () => {
    await store?.close();
  });

  async function count(hours: number, channel: string, template: string, metric: string, n: number) {
    await db.query(
      `INSERT INTO delivery_stats AS s (bucket, app_id, channel, plugin, template, category, metric, reason, n)
       VALUES ($1, $2, $3, $3 || '-plugin', $4, '', $5, '', $6)
       ON CONFLICT (app_id, bucket, channel, plugin, template, category, metric, reason) DO UPDATE SET n = s.n + EXCLUDED.n`,
      [at(hours), appId, channel, template, metric, n],
    );
  }

  const FILTERS: StatsFilters[] = [
    {},
    { channel: 'email' },
    { template: 'welcome' },
    { channel: 'push', template: 'welcome' },
    { channel: 'email', plugin: 'email-plugin' },
  ];
  const range = { from: at(-5), to: at(2), bucket: 'hour' as const };
  const sorted = (r: { t: number; metric: string; reason: string; n: number }[]) =>
    [...r].sort((a, b) => a.t - b.t || a.metric.localeCompare(b.metric) || a.reason.localeCompare(b.reason));

  /** Every keyed read equals the same filters summed over every combination (`byFilters` reads `delivery_stats` only). */
  async function assertKeyedReadsExact(when: string) {
    for (const f of FILTERS) {
      const keyed = await stats.byDimension(appId, range, dimensionKey(f));
      const full = await stats.byFilters(appId, range, f);
      assert.ok(full.length > 0, `${when}: the fixture has counts for ${JSON.stringify(f)}`);
      assert.deepEqual(sorted(keyed), sorted(full), `${when}: ${JSON.stringify(f)}`);
    }
  }

  const dimRows = () =>
    rows<{ bucket: Date; xmin: string }>(
      db,
      `SELECT bucket, xmin::text FROM delivery_stats_dim WHERE app_id = $1 ORDER BY 1, 2`,
      [appId],
    );

  test('the writers count into delivery_stats only: a delivery stored and sent writes no dimension row', async () => {
    const id = await storeOneDelivery(store);
    await recordOutcomes(
      db,
      [
        {
          id,
          status: 'sent',
          reason: null,
          attempt: 1,
          providerMessageId: null,
          errorCode: null,
          errorMessage: null,
        },
      ],
      [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
    );
    const counted = await rows<{ metric: string; n: number }>(
      db,
      `SELECT metric, sum(n)::int AS n FROM delivery_stats WHERE app_id = $1 GROUP BY 1 ORDER BY 1`,
      [appId],
    );
    assert.deepEqual(counted, [
      { metric: 'requested', n: 1 },
      { metric: 'sent', n: 1 },
    ]);
    assert.equal((await dimRows()).length, 0);
  });

  test('counts of hours not rolled up yet are read live, and the roll-up changes no answer', async () => {
    for (const h of [-3, -2, -1, 0]) {
      await count(h, 'email', 'welcome', 'sent', 10 + h);
      await count(h, 'push', 'welcome', 'sent', 20 + h);
      await count(h, 'push', 'reset', 'failed', 3);
    }
    await assertKeyedReadsExact('before any roll-up');

    // Ten minutes into hour H: hours up to H are closed and settled, H itself is not.
    const mark = await rollup.rollUp(new Date(H + 10 * 60_000));
    assert.deepEqual(mark, at(0));
    const buckets = new Set((await dimRows()).map((r) => r.bucket.getTime()));
    assert.deepEqual(
      [...buckets].sort(),
      [at(-3), at(-2), at(-1)].map((d) => d.getTime()),
    );
    await assertKeyedReadsExact('after the roll-up');
  });

  test('a count that lands in the last hour after its roll-up is rolled up again, and a pass with nothing new rewrites nothing', async () => {
    await count(-1, 'email', 'welcome', 'sent', 5); // a batch that committed just after the hour was rolled up
    await assertKeyedReadsExact('late count, before the next pass');
    const mark = await rollup.rollUp(new Date(H + 20 * 60_000));
    assert.deepEqual(mark, at(0));
    await assertKeyedReadsExact('late count, after the next pass');

    const before = await dimRows();
    await rollup.rollUp(new Date(H + 30 * 60_000));
    assert.deepEqual(await dimRows(), before, 'the same rows, not rewritten (same xmin)');
  });

  test('the next hour is rolled up once it has settled', async () => {
    assert.deepEqual(
      await rollup.rollUp(new Date(H + HOUR + 4 * 60_000)),
      at(0),
      'not five minutes after it yet',
    );
    assert.deepEqual(await rollup.rollUp(new Date(H + HOUR + 6 * 60_000)), at(1));
    await assertKeyedReadsExact('after hour H is rolled up');
  });
});
