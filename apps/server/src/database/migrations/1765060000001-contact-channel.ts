import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A user's address on a channel a plugin adds (`addresses.slack`): `channel` names it; NULL for
 * the core contacts (devices, e-mail, phone, webhookUrl). One address per user, kind and channel,
 * so a Slack URL equal to the user's webhookUrl is a second contact with its own disabled state.
 */
export class ContactChannel1765060000001 implements MigrationInterface {
  name = 'ContactChannel1765060000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE contacts ADD COLUMN channel text;
      DROP INDEX contacts_user_address;
      CREATE UNIQUE INDEX contacts_user_address ON contacts (user_id, kind, channel, address) NULLS NOT DISTINCT
        WHERE kind <> 'device';
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DELETE FROM contacts WHERE channel IS NOT NULL;
      DROP INDEX contacts_user_address;
      CREATE UNIQUE INDEX contacts_user_address ON contacts (user_id, kind, address) WHERE kind <> 'device';
      ALTER TABLE contacts DROP COLUMN channel;
    `);
  }
}
