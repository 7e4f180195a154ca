/**
 * Cost of the rollup on the status-write path (not a test): times bumpStats for batches of
 * status changes (the StatusWriter's batch size is up to 1,000), each in its own transaction.
 *
 *   node bench/dist/stats-write.js [batch=1000] [batches=30]   (after a build)
 */
import { performance } from 'node:perf_hooks';
import { newId } from '@clarion/server/dist/common/ids';
import { createDataSource, runMigrations } from '@clarion/server/dist/database/data-source';
import { bumpStats } from '@clarion/server/dist/deliveries/stats-rollup';
import { createTestDatabase } from '@clarion/testkit';
import { quantile } from './percentiles';

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 1000);
  const batches = Number(process.argv[3] ?? 30);
  const db = await createTestDatabase('statswrite');
  await runMigrations(db.url);
  const ds = createDataSource(db.url, 4);
  await ds.initialize();
  try {
    const appId = newId();
    await ds.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'bench', 'x')`, [appId]);
    const notifications = Array.from({ length: 20 }, () => newId());
    await ds.query(
      `INSERT INTO notifications (id, app_id, status, priority, request, category)
       SELECT id, $2, 'accepted', 'normal', jsonb_build_object('template', 'template-' || (i % 5)), 'marketing'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, i)`,
      [notifications, appId],
    );
    const ids = Array.from({ length: batch }, () => newId());
    await ds.query(
      `INSERT INTO deliveries (id, notification_id, app_id, channel, plugin, status)
       SELECT id, ($2::uuid[])[1 + (i % 20)], $3, (ARRAY['email','sms','push','web'])[1 + (i % 4)], 'p' || (i % 4), 'queued'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, i)`,
      [ids, notifications, appId],
    );
    const times: number[] = [];
    for (let b = 0; b < batches; b++) {
      const metric = ['sent', 'delivered', 'opened'][b % 3]!;
      const t0 = performance.now();
      await ds.transaction((tx) =>
        bumpStats(
          tx,
          ids.map((id) => ({ id, metric, reason: null })),
        ),
      );
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const p = (x: number) => quantile(times, x).toFixed(1);
    console.log(
      `bumpStats, ${batch} status changes per batch: p50 ${p(0.5)} ms  p95 ${p(0.95)} ms  (${((batch / Number(p(0.5))) * 1000).toFixed(0)} changes/s at p50)`,
    );
  } finally {
    await ds.destroy();
    await db.drop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
