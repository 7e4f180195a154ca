import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sent_at`: when a provider first accepted the delivery, written with its `sent` status. It stays
 * set whatever comes later (a bounce that fails it), so the send gate can always
 * tell a delivery that went from one that did not, whatever Redis lost. Rows sent before it existed
 * are not filled in (that would rewrite the whole table): their status says it (status-writer.ts).
 * `deliveries_queued`: the queue reconciler pages through `queued` deliveries by id to find jobs
 * Redis no longer holds; without it every pass would read the whole table.
 */
export class DurableSentRecord1764950000000 implements MigrationInterface {
  name = 'DurableSentRecord1764950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS sent_at timestamptz;
      CREATE INDEX IF NOT EXISTS deliveries_queued ON deliveries (id) WHERE status = 'queued';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP INDEX IF EXISTS deliveries_queued; ALTER TABLE deliveries DROP COLUMN IF EXISTS sent_at',
    );
  }
}
