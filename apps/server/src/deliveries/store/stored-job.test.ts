import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryJob } from '@clarion/plugin-sdk';
import { newId } from '../../common/ids';
import { rows } from '../../database/rows';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../../testing/store-database';
import { jobSql } from './stored-job';

/** A job stored without what its row and the defaults say reads back whole (recovery re-adds exactly it). */
describe('a delivery job stored lean', () => {
  let s: StoreDatabase;

  before(async () => {
    s = await storeDatabase('stored_job');
  });
  after(async () => {
    await s?.close();
  });

  async function roundTrip(
    extra: Partial<DeliveryJob>,
    userKey: string | null = null,
  ): Promise<{ job: DeliveryJob; read: unknown; stored: unknown }> {
    const job: DeliveryJob = {
      deliveryId: newId(),
      notificationId: newId(),
      appId: s.appId,
      userId: 'user-1',
      channel: 'push',
      plugin: 'fcm',
      address: { kind: 'device', platform: 'android', token: 'tok', contactId: newId() },
      content: { title: 'Hi', body: 'There' },
      priority: 'normal',
      pushType: 'alert',
      acceptedAt: new Date(0).toISOString(),
      ...extra,
    };
    await storeOneDelivery(s, {
      id: job.deliveryId,
      userId: userKey,
      channel: job.channel,
      plugin: job.plugin,
      job,
    });
    const [row] = await rows<{ read: unknown; stored: unknown }>(
      s.db,
      `SELECT ${jobSql('d')} AS read, d.job AS stored FROM deliveries d WHERE d.id = $1`,
      [job.deliveryId],
    );
    return { job, read: row!.read, stored: row!.stored };
  }

  test('the usual priority and push type are left out and read back', async () => {
    const { job, read, stored } = await roundTrip({});
    assert.deepEqual(read, job);
    assert.equal((stored as Record<string, unknown>).priority, undefined);
    assert.equal((stored as Record<string, unknown>).pushType, undefined);
  });

  test('another priority and push type are kept', async () => {
    const { job, read } = await roundTrip({ priority: 'high', pushType: 'background' });
    assert.deepEqual(read, job);
  });

  test("the user's external id is left out when the row names the user, and read back from users", async () => {
    const userKey = newId();
    await s.db.query(`INSERT INTO users (id, app_id, external_id) VALUES ($1, $2, 'customer-4711')`, [
      userKey,
      s.appId,
    ]);
    const { job, read, stored } = await roundTrip({ userId: 'customer-4711' }, userKey);
    assert.deepEqual(read, job);
    assert.equal((stored as Record<string, unknown>).userId, undefined);
  });

  test('a job without a user reads back without one', async () => {
    const { job, read } = await roundTrip({ userId: undefined });
    const { userId: _gone, ...withoutUser } = job;
    assert.deepEqual(read, withoutUser);
  });
});
