import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The stats rollups are pruned by age (CLARION_STATS_RETENTION_DAYS): an index on the hour bucket
 * lets each DELETE batch find the oldest rows without reading every app's. A rollup row is
 * inserted once per hour and combination and then only incremented, so the index costs the hot
 * path almost nothing.
 */
export class StatsBucketIndex1764800000000 implements MigrationInterface {
  name = 'StatsBucketIndex1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX IF NOT EXISTS delivery_stats_bucket ON delivery_stats (bucket)');
    await q.query('CREATE INDEX IF NOT EXISTS delivery_stats_dim_bucket ON delivery_stats_dim (bucket)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS delivery_stats_bucket, delivery_stats_dim_bucket');
  }
}
