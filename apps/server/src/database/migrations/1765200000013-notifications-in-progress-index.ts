import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The notifications waiting for their sendAt or for their fan-out get one small partial index,
 * `notifications_in_progress` on send_at for status `scheduled` or `fanout`. Before it, only
 * `scheduled` rows were indexed, so what asks about both (the scheduled gauges read at every
 * /metrics scrape of every process, the relay's orphaned fan-outs every sweep) read the whole
 * table, a month of notifications. `notifications_app_created` goes: no statement reads by app
 * and creation time (by id, UUIDv7, is time order already), and it cost an index entry, about
 * 80 bytes of WAL, for every notification written. No endpoint deletes an app; one deleted by
 * hand cascades to its notifications with a scan.
 */
export class NotificationsInProgressIndex1765200000013 implements MigrationInterface {
  name = 'NotificationsInProgressIndex1765200000013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX notifications_in_progress ON notifications (send_at) WHERE status IN ('scheduled', 'fanout');
      DROP INDEX notifications_scheduled;
      DROP INDEX notifications_app_created;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX notifications_app_created ON notifications (app_id, created_at);
      CREATE INDEX notifications_scheduled ON notifications (send_at) WHERE status = 'scheduled';
      DROP INDEX notifications_in_progress;
    `);
  }
}
