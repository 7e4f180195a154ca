import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { newId } from '../common/ids';
import { createDataSource, runMigrations } from './data-source';

/**
 * An installation upgrading to HOT status updates (migration 1765200000014): the deliveries it
 * already has are found as before, by the relay, the redrive list and provider callbacks.
 */
describe('migrating existing deliveries to unsettled_deliveries and provider_messages', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('hot_status_migration');
  });
  after(async () => {
    await db.drop();
  });

  test('each pending, queued, failed or expired delivery gets its unsettled row, each provider id its lookup row', async () => {
    await runMigrations(db.url);
    const ds = createDataSource(db.url, 1);
    await ds.initialize();
    let undone = 0;
    try {
      // Back to before migration 1765200000014, undoing the later ones on the way.
      for (;;) {
        const [last]: { name: string }[] = await ds.query(
          'SELECT name FROM clarion_migrations ORDER BY id DESC LIMIT 1',
        );
        await ds.undoLastMigration({ transaction: 'each' });
        undone++;
        if (last?.name === 'HotStatusUpdates1765200000014') break;
      }
      const appId = newId();
      await ds.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'upgrade', 'x')`, [appId]);
      const statuses = [
        'pending',
        'queued',
        'sent',
        'failed',
        'expired',
        'delivered',
        'canceled',
        'suppressed',
      ];
      const ids = statuses.map(() => newId());
      await ds.query(
        `WITH n AS (INSERT INTO notifications (id, app_id, status, priority, request)
                    SELECT id, $2, 'accepted', 'normal', '{}' FROM unnest($1::uuid[]) AS id)
         INSERT INTO deliveries (id, notification_id, app_id, channel, status, provider_message_id)
         SELECT id, id, $2, 'webhook', s, CASE WHEN s IN ('sent', 'failed', 'delivered') THEN 'pm-' || s END
           FROM unnest($1::uuid[], $3::text[]) AS x(id, s)`,
        [ids, appId, statuses],
      );
    } finally {
      await ds.destroy();
    }
    assert.equal((await runMigrations(db.url)).length, undone);
    const check = createDataSource(db.url, 1);
    await check.initialize();
    try {
      const unsettled: { status: string; has_app: boolean }[] = await check.query(
        `SELECT status, app_id IS NOT NULL AS has_app FROM unsettled_deliveries ORDER BY status`,
      );
      assert.deepEqual(unsettled, [
        { status: 'expired', has_app: true },
        { status: 'failed', has_app: true },
        { status: 'pending', has_app: false },
        { status: 'queued', has_app: false },
      ]);
      const found: { pmid: string; status: string }[] = await check.query(
        `SELECT pm.provider_message_id AS pmid, d.status
           FROM provider_messages pm JOIN deliveries d ON d.id = pm.delivery_id ORDER BY 1`,
      );
      assert.deepEqual(found, [
        { pmid: 'pm-delivered', status: 'delivered' },
        { pmid: 'pm-failed', status: 'failed' },
        { pmid: 'pm-sent', status: 'sent' },
      ]);
      // Every day partition of deliveries has its provider_messages twin, and new days get one too.
      const [twins] = (await check.query(
        `SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = 'deliveries'::regclass)::int AS deliveries,
                (SELECT count(*) FROM pg_inherits WHERE inhparent = 'provider_messages'::regclass)::int AS provider_ids`,
      )) as [{ deliveries: number; provider_ids: number }];
      assert.ok(twins.deliveries > 0);
      assert.equal(twins.provider_ids, twins.deliveries);
      await check.query(
        `SELECT clarion_add_delivery_partitions((now() AT TIME ZONE 'UTC')::date + 30, (now() AT TIME ZONE 'UTC')::date + 30)`,
      );
      const [later] = (await check.query(
        `SELECT to_regclass('provider_messages_p' || to_char((now() AT TIME ZONE 'UTC')::date + 30, 'YYYYMMDD'))::text AS name`,
      )) as [{ name: string | null }];
      assert.ok(later.name, 'the partition maker makes the provider_messages day too');
    } finally {
      await check.destroy();
    }
  });
});
