import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quiet hours (one window per user, wall-clock HH:MM in the user's time zone) and held
 * deliveries: a delivery kept back by quiet hours or a deferring cap is queued with a delay,
 * and `held_until` says until when (shown by GET /v1/notifications/:id, honoured by the sweeper).
 */
export class QuietHoursAndHolds1764300000000 implements MigrationInterface {
  name = 'QuietHoursAndHolds1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_quiet_hours (
        user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        app_id uuid NOT NULL,
        start_time text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        end_time text NOT NULL CHECK (end_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
        categories text[],
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE deliveries ADD COLUMN held_until timestamptz;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE deliveries DROP COLUMN IF EXISTS held_until; DROP TABLE IF EXISTS user_quiet_hours',
    );
  }
}
