import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When a notification was canceled (POST /v1/notifications/:id/cancel). */
export class Scheduling1764600000000 implements MigrationInterface {
  name = 'Scheduling1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE notifications ADD COLUMN IF NOT EXISTS canceled_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE notifications DROP COLUMN IF EXISTS canceled_at');
  }
}
