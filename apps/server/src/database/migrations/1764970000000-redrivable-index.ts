import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An app's failed and expired deliveries by id, for `GET /v1/deliveries` and the re-drive. Partial:
 * only deliveries that ended without reaching a provider are in it, so the hot path (pending,
 * queued, sent) does not pay for it.
 */
export class RedrivableIndex1764970000000 implements MigrationInterface {
  name = 'RedrivableIndex1764970000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS deliveries_redrivable ON deliveries (app_id, id) WHERE status IN ('failed', 'expired')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS deliveries_redrivable');
  }
}
