import type { MigrationInterface, QueryRunner } from 'typeorm';
import { PAYLOAD_COLUMNS } from './1765200000017-delivery-payload-statistics';

/**
 * `deliveries.job` gets no planner statistics either. The queries that look at it (the relay's
 * and the queue reconciler's `job IS NOT NULL`, `job->>'batch'`) reach their rows by key first
 * (`unsettled_deliveries`, ids, notification ids), so its statistics choose nothing; ANALYZE,
 * though, sorted every sampled job by jsonb comparison: a day of queued deliveries analysed in
 * 327–335 ms with them and 190–194 ms without (docs/benchmarks.md, session 13), and a campaign
 * analyses its growing day several times while its jobs are still in the rows. The day-partition
 * maker copies the table's per-column targets to the days it makes (migration 1765200000017).
 */
export const JOB_COLUMN = 'job';

/** Every column of `deliveries` without planner statistics. */
export const UNANALYSED_COLUMNS = [...PAYLOAD_COLUMNS, JOB_COLUMN] as const;

export class DeliveryJobStatistics1765200000018 implements MigrationInterface {
  name = 'DeliveryJobStatistics1765200000018';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ALTER COLUMN ${JOB_COLUMN} SET STATISTICS 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ALTER COLUMN ${JOB_COLUMN} SET STATISTICS -1`);
  }
}
