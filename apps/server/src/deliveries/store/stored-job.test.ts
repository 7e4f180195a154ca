import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryJob } from '@clarion/plugin-sdk';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import type { DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { createDataSource, runMigrations } from '../../database/data-source';
import { rows } from '../../database/rows';
import { insertNotifications, serializeDeliveries } from './insert-deliveries';
import { jobSql } from './stored-job';

/** A job stored without what its row and the defaults say reads back whole (recovery re-adds exactly it). */
describe('a delivery job stored lean', () => {
  let tdb: TestDatabase;
  let db: DataSource;
  let appId: string;

  before(async () => {
    tdb = await createTestDatabase('stored_job');
    await runMigrations(tdb.url);
    db = createDataSource(tdb.url, 2);
    await db.initialize();
    appId = newId();
    await db.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'stored-job', 'x')`, [appId]);
  });
  after(async () => {
    await db?.destroy();
    await tdb?.drop();
  });

  async function roundTrip(
    extra: Partial<DeliveryJob>,
  ): Promise<{ job: DeliveryJob; read: unknown; stored: unknown }> {
    const notificationId = newId();
    const job: DeliveryJob = {
      deliveryId: newId(),
      notificationId,
      appId,
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
    await insertNotifications(
      db,
      [
        {
          id: notificationId,
          appId,
          eventId: null,
          status: 'accepted',
          category: null,
          priority: job.priority,
          requestJson: '{}',
          sendAt: null,
          expiresAt: null,
          recipients: 1,
          templateKey: null,
          templateVersion: null,
        },
      ],
      serializeDeliveries([
        {
          notificationId,
          appId,
          plan: {
            id: job.deliveryId,
            userId: null,
            contactId: null,
            channel: job.channel,
            plugin: job.plugin,
            status: 'pending',
            reason: null,
            job,
          },
        },
      ]),
    );
    const [row] = await rows<{ read: unknown; stored: unknown }>(
      db,
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
});
