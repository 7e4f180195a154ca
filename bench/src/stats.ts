/**
 * Stats latency bench (not a test): seeds the hourly rollup as one million deliveries over 30
 * days would leave it (4 channels × 2 plugins × 20 templates × 3 categories, every funnel step
 * and failure/suppression reasons), then times GET /v1/stats's query through StatsService.
 *
 *   pnpm bench:stats [deliveries=1000000]   (node bench/dist/stats.js)
 */
import { performance } from 'node:perf_hooks';
import { newId } from '@clarion/server/dist/common/ids';
import { createDataSource, runMigrations } from '@clarion/server/dist/database/data-source';
import { DIMENSIONS_SQL } from '@clarion/server/dist/deliveries/stats-rollup';
import { type StatsQuery, StatsService } from '@clarion/server/dist/tracking/stats.service';
import { StatsRepository } from '@clarion/server/dist/tracking/stats-repository';
import { createTestDatabase } from '@clarion/testkit';
import { quantile } from './percentiles';

async function main(): Promise<void> {
  const deliveries = Number(process.argv[2] ?? 1_000_000);
  const db = await createTestDatabase('statsbench');
  await runMigrations(db.url);
  const ds = createDataSource(db.url, 4);
  await ds.initialize();
  try {
    const appId = newId();
    await ds.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'bench', 'x')`, [appId]);
    const seedStart = performance.now();
    // Each synthetic delivery picks an hour and dimensions at random, then walks the funnel.
    await ds.query(
      `INSERT INTO delivery_stats (bucket, app_id, channel, plugin, template, category, metric, reason, n)
       SELECT bucket, $1::uuid, channel, plugin, template, category, m.metric, m.reason, count(*)
         FROM (
           SELECT date_trunc('hour', now() - random() * interval '30 days') AS bucket,
                  (ARRAY['email','sms','push','web'])[c] AS channel,
                  (ARRAY['sendgrid','twilio','fcm','webpush','mailchimp','vonage','apns','webpush'])[c + 4 * (r2 < 0.3)::int] AS plugin,
                  'template-' || (random() * 19)::int AS template,
                  (ARRAY['marketing','security','billing'])[1 + (random() * 2)::int] AS category,
                  random() AS r
             FROM (SELECT i, 1 + floor(random() * 4)::int AS c, random() AS r2 FROM generate_series(1, $2::int) AS i) g
         ) d
         CROSS JOIN LATERAL (VALUES
           ('requested', '', true),
           ('suppressed', 'opted_out', d.r < 0.05),
           ('sent', '', d.r >= 0.05),
           ('failed', CASE WHEN d.r < 0.07 THEN 'invalid_address' ELSE 'permanent' END, d.r >= 0.05 AND d.r < 0.09),
           ('delivered', '', d.r >= 0.09),
           ('opened', '', d.r >= 0.6),
           ('clicked', '', d.r >= 0.85)
         ) AS m(metric, reason, applies)
        WHERE m.applies
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
      [appId, deliveries],
    );
    await ds.query(
      `INSERT INTO delivery_stats_dim (bucket, app_id, dim, metric, reason, n)
       SELECT src.bucket, src.app_id, x.dim, src.metric, src.reason, sum(src.n) FROM delivery_stats src
        CROSS JOIN LATERAL ${DIMENSIONS_SQL} AS x(dim) GROUP BY 1, 2, 3, 4, 5`,
    );
    await ds.query('ANALYZE delivery_stats; ANALYZE delivery_stats_dim');
    const [{ rows }] = await ds.query(
      `SELECT (SELECT count(*) FROM delivery_stats)::int + (SELECT count(*) FROM delivery_stats_dim)::int AS rows`,
    );
    const seedMs = performance.now() - seedStart;
    const stats = new StatsService(new StatsRepository(ds));
    const now = new Date();
    const cases: [string, StatsQuery][] = [
      [
        '30 days, hourly (720 buckets)',
        { from: new Date(now.getTime() - 30 * 86_400_000), to: now, bucket: 'hour' },
      ],
      ['30 days, daily', { from: new Date(now.getTime() - 30 * 86_400_000), to: now, bucket: 'day' }],
      [
        '30 days, daily, channel=email',
        { from: new Date(now.getTime() - 30 * 86_400_000), to: now, bucket: 'day', channel: 'email' },
      ],
      [
        '30 days, daily, template=template-7',
        { from: new Date(now.getTime() - 30 * 86_400_000), to: now, bucket: 'day', template: 'template-7' },
      ],
      ['last 24 hours, hourly', { from: new Date(now.getTime() - 86_400_000), to: now, bucket: 'hour' }],
      [
        '7 days, hourly, channel=sms + category=billing',
        {
          from: new Date(now.getTime() - 7 * 86_400_000),
          to: now,
          bucket: 'hour',
          channel: 'sms',
          category: 'billing',
        },
      ],
      [
        '7 days, hourly, 3 filters (combination table)',
        {
          from: new Date(now.getTime() - 7 * 86_400_000),
          to: now,
          bucket: 'hour',
          channel: 'sms',
          category: 'billing',
          template: 'template-3',
        },
      ],
    ];
    console.log(
      `seeded ${deliveries.toLocaleString('en')} deliveries as ${rows.toLocaleString('en')} rollup rows in ${(seedMs / 1000).toFixed(1)} s`,
    );
    for (const [name, q] of cases) {
      const times: number[] = [];
      let requested = 0;
      for (let i = 0; i < 25; i++) {
        const t0 = performance.now();
        const out = await stats.query(appId, q);
        times.push(performance.now() - t0);
        requested = out.totals.requested;
      }
      times.sort((a, b) => a - b);
      const p = (x: number) => quantile(times, x).toFixed(1);
      console.log(
        `${name.padEnd(38)} p50 ${p(0.5)} ms  p95 ${p(0.95)} ms  max ${p(1)} ms  (requested=${requested.toLocaleString('en')})`,
      );
    }
    if (process.env.EXPLAIN) {
      const plan: { 'QUERY PLAN': string }[] = await ds.query(
        `EXPLAIN (ANALYZE, BUFFERS) SELECT date_trunc('hour', bucket, 'UTC') AS b, metric, reason, sum(n)::bigint AS n
           FROM delivery_stats_dim WHERE app_id = $1 AND dim = '' AND bucket >= now() - interval '30 days' AND bucket < now() GROUP BY 1, 2, 3`,
        [appId],
      );
      console.log(plan.map((p) => p['QUERY PLAN']).join('\n'));
    }
  } finally {
    await ds.destroy();
    await db.drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
