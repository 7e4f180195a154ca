import type { MigrationInterface, QueryRunner } from 'typeorm';
import { partitionMaker } from './1765200000014-hot-status-updates';

/**
 * `deliveries.job` compressed with lz4 instead of pglz, on the table and every partition it has;
 * the day-partition maker copies the table's setting to the days it makes. A campaign's jobs carry their rendered content,
 * a newsletter's HTML 50 KB each: pglz took 300–440 µs a row to compress it, lz4 50–70 µs, at the
 * same size on disk (docs/benchmarks.md, session 8). Rows already written keep pglz; both read
 * back alike. A PostgreSQL built without lz4 keeps pglz (a notice says so).
 */
export class Lz4DeliveryJobs1765200000016 implements MigrationInterface {
  name = 'Lz4DeliveryJobs1765200000016';

  async up(q: QueryRunner): Promise<void> {
    await q.query(partitionMaker(60, true, true));
    await q.query(compression('lz4'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(compression('default'));
    await q.query(partitionMaker(60, true));
  }
}

const compression = (method: 'lz4' | 'default') => `
  DO $$
  DECLARE part regclass;
  BEGIN
    ALTER TABLE deliveries ALTER COLUMN job SET COMPRESSION ${method};
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'deliveries'::regclass LOOP
      EXECUTE format('ALTER TABLE %s ALTER COLUMN job SET COMPRESSION ${method}', part);
    END LOOP;
  EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL is built without lz4: delivery jobs stay compressed with pglz';
  END $$`;
