import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../common/ids';
import { rows } from '../database/rows';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../testing/store-database';
import { deliveriesOfProviderIds } from './store/provider-messages';
import { UpgradeCatchUp } from './upgrade-catch-up';

const MINUTE = 60_000;

/**
 * A rolling upgrade to HOT status updates: pods of the previous version, still running after the
 * migration, write deliveries without `unsettled_deliveries` and `provider_messages`; the workers
 * walk those deliveries after the rollout and write what is missing.
 */
describe('catching up after the upgrade to HOT status updates', () => {
  let s: StoreDatabase;
  let since: Date;

  before(async () => {
    s = await storeDatabase('upgrade_catch_up');
    const [row] = await rows<{ since: Date }>(s.db, `SELECT since FROM clarion_catch_ups`);
    since = row!.since;
  });
  after(async () => {
    await s?.close();
  });

  const unsettledOf = async (id: string) =>
    (await rows<{ status: string }>(s.db, 'SELECT status FROM unsettled_deliveries WHERE id = $1', [id]))[0]
      ?.status ?? null;

  test('what the previous version wrote is caught up by two walks, the second an hour after the migration', async () => {
    // As the previous version writes: the rows alone.
    const queuedByOld = newId();
    await s.db.query(
      `INSERT INTO notifications (id, app_id, status, priority, request) VALUES ($1, $2, 'accepted', 'normal', '{}')`,
      [queuedByOld, s.appId],
    );
    await s.db.query(
      `INSERT INTO deliveries (id, notification_id, app_id, channel, plugin, status, job) VALUES ($1, $1, $2, 'email', 'smtp', 'queued', '{}')`,
      [queuedByOld, s.appId],
    );
    const failedByOld = await storeOneDelivery(s); // written by this version: queued, unsettled
    const sentByOld = await storeOneDelivery(s);
    await s.db.query(`UPDATE deliveries SET status = 'failed' WHERE id = $1`, [failedByOld]);
    await s.db.query(
      `UPDATE deliveries SET status = 'sent', provider_message_id = 'pm-old-pod' WHERE id = $1`,
      [sentByOld],
    );
    assert.equal(await unsettledOf(queuedByOld), null);
    assert.equal(await unsettledOf(failedByOld), 'queued');
    assert.deepEqual(await deliveriesOfProviderIds(s.db, ['pm-old-pod']), []);

    const task = new UpgradeCatchUp(s.db);
    // During the rollout: not yet.
    assert.equal(await task.run(new Date(since.getTime() + 5 * MINUTE)), false);
    assert.equal(await unsettledOf(queuedByOld), null);
    // After it: the first walk writes what is missing, and is not the last.
    assert.equal(await task.run(new Date(since.getTime() + 15 * MINUTE)), false);
    assert.equal(await unsettledOf(queuedByOld), 'queued');
    assert.equal(await unsettledOf(failedByOld), 'failed');
    assert.equal(await unsettledOf(sentByOld), null);
    assert.deepEqual(await deliveriesOfProviderIds(s.db, ['pm-old-pod']), [
      { id: sentByOld, pmid: 'pm-old-pod' },
    ]);
    const [app] = await rows<{ app: string | null }>(
      s.db,
      'SELECT app_id AS app FROM unsettled_deliveries WHERE id = $1',
      [failedByOld],
    );
    assert.equal(app!.app, s.appId, 'a failed delivery is listed by app for the redrive list');

    // Another pass before the hour: nothing to walk yet.
    const [before1] = await rows<{ walks: number }>(s.db, 'SELECT walks FROM clarion_catch_ups');
    assert.equal(await task.run(new Date(since.getTime() + 30 * MINUTE)), false);
    const [before2] = await rows<{ walks: number }>(s.db, 'SELECT walks FROM clarion_catch_ups');
    assert.deepEqual([before1!.walks, before2!.walks], [1, 1]);

    // A straggler of the old version writes once more; the last walk, after the hour, catches it.
    await s.db.query(`UPDATE deliveries SET status = 'expired' WHERE id = $1`, [queuedByOld]);
    assert.equal(await task.run(new Date(since.getTime() + 61 * MINUTE)), true);
    assert.equal(await unsettledOf(queuedByOld), 'expired');
    // Done for good: the row says so, and the walk never runs again.
    const [state] = await rows<{ done: boolean; walks: number }>(
      s.db,
      'SELECT done_at IS NOT NULL AS done, walks FROM clarion_catch_ups',
    );
    assert.deepEqual(state, { done: true, walks: 2 });
    assert.equal(await task.run(new Date(since.getTime() + 120 * MINUTE)), true);
  });
});
