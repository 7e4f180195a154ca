import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Escalation: the later steps of a notification given as `steps`, one row per step × user,
 * written with the notification. `waiting` until due_at, then `planned` (its deliveries written),
 * `skipped` (the user engaged: a suppressed delivery with reason `engaged`) or `canceled`. The
 * partial index serves the relay's due query; the other the settle and read paths.
 */
export class NotificationSteps1765200000001 implements MigrationInterface {
  name = 'NotificationSteps1765200000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_steps (
        notification_id uuid NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        step smallint NOT NULL,
        app_id uuid NOT NULL,
        channel text NOT NULL,
        due_at timestamptz NOT NULL,
        unless text[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'planned', 'skipped', 'canceled')),
        settled_at timestamptz,
        PRIMARY KEY (notification_id, user_id, step)
      );
      CREATE INDEX notification_steps_due ON notification_steps (due_at) WHERE status = 'waiting';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notification_steps');
  }
}
