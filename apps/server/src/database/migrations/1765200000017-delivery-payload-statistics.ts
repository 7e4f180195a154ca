import type { MigrationInterface, QueryRunner } from 'typeorm';
import { partitionMaker } from './1765200000014-hot-status-updates';

/**
 * Columns of `deliveries` that no query filters, joins or sorts on get no planner statistics
 * (statistics target 0): the `sent` step's detail, the tracked links and the error text. ANALYZE
 * (autovacuum's, and the server's own of a growing day) spent most of its time on `sent_event`'s
 * jsonb values; without these three it took 129–141 ms instead of 216–244 ms on a day of 40,000
 * deliveries (docs/benchmarks.md, session 12). Set on the table (which sets its partitions) and
 * copied by the day-partition maker to the days it makes.
 */
export const PAYLOAD_COLUMNS = ['sent_event', 'links', 'error_message'] as const;

export class DeliveryPayloadStatistics1765200000017 implements MigrationInterface {
  name = 'DeliveryPayloadStatistics1765200000017';

  async up(q: QueryRunner): Promise<void> {
    await q.query(partitionMaker(60, true, true, true));
    await q.query(statistics(0));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(statistics(-1));
    await q.query(partitionMaker(60, true, true));
  }
}

const statistics = (target: number) =>
  `ALTER TABLE deliveries ${PAYLOAD_COLUMNS.map((c) => `ALTER COLUMN ${c} SET STATISTICS ${target}`).join(', ')}`;
