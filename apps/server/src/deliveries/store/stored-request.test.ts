import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../common/ids';
import { rows } from '../../database/rows';
import { acceptedNotification, type StoreDatabase, storeDatabase } from '../../testing/store-database';
import { insertNotifications, serializeNotification } from './insert-deliveries';
import { requestSql } from './stored-request';

/** A request stored without the schema's defaults reads back whole (fan-out, redrive and escalation replan from it). */
describe('a notification request stored lean', () => {
  let s: StoreDatabase;

  before(async () => {
    s = await storeDatabase('stored_request');
  });
  after(async () => {
    await s?.close();
  });

  async function roundTrip(request: Record<string, unknown>): Promise<{ read: unknown; stored: unknown }> {
    const id = newId();
    const { requestJson } = serializeNotification({ ...acceptedNotification(id, s.appId), request });
    await insertNotifications(s.db, [{ ...acceptedNotification(id, s.appId), requestJson }], []);
    const [row] = await rows<{ read: unknown; stored: unknown }>(
      s.db,
      `SELECT ${requestSql('n')} AS read, n.request AS stored FROM notifications n WHERE n.id = $1`,
      [id],
    );
    return { read: row!.read, stored: row!.stored };
  }

  test('empty data, normal priority and an alert are left out and read back', async () => {
    const request = {
      to: { userId: 'u-1' },
      data: {},
      priority: 'normal',
      pushType: 'alert',
      template: 'welcome',
    };
    const { read, stored } = await roundTrip(request);
    assert.deepEqual(read, request);
    assert.deepEqual(stored, { to: { userId: 'u-1' }, template: 'welcome' });
  });

  test('other values are kept as they are', async () => {
    const request = { to: { userId: 'u-1' }, data: { order: 7 }, priority: 'high', pushType: 'background' };
    const { read, stored } = await roundTrip(request);
    assert.deepEqual(read, request);
    assert.deepEqual(stored, request);
  });
});
