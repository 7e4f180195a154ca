import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `deliveries_notification` on (notification_id, id) instead of (notification_id): a cancel pages
 * through a campaign's deliveries by id (keyset), and with the old index every page re-read and
 * sorted all the notification's remaining rows (quadratic for a million). Same name, same uses
 * otherwise (every lookup by notification_id still finds it), one index still, not two.
 */
export class NotificationDeliveriesKeyset1765200000004 implements MigrationInterface {
  name = 'NotificationDeliveriesKeyset1765200000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX deliveries_notification;
      CREATE INDEX deliveries_notification ON deliveries (notification_id, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX deliveries_notification;
      CREATE INDEX deliveries_notification ON deliveries (notification_id);
    `);
  }
}
