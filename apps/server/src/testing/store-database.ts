import { createTestDatabase } from '@clarion/testkit';
import type { DataSource } from 'typeorm';
import { newId } from '../common/ids';
import { createDataSource, runMigrations } from '../database/data-source';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import {
  insertNotifications,
  type SerializedNotification,
  serializeDeliveries,
} from '../deliveries/store/insert-deliveries';

/** A migrated database of its own with one app, for tests of the delivery store's statements. */
export interface StoreDatabase {
  url: string;
  db: DataSource;
  appId: string;
  close(): Promise<void>;
}

export async function storeDatabase(label: string): Promise<StoreDatabase> {
  const tdb = await createTestDatabase(label);
  await runMigrations(tdb.url);
  const db = createDataSource(tdb.url, 4);
  await db.initialize();
  const appId = newId();
  await db.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, $2, 'x')`, [appId, label]);
  return {
    url: tdb.url,
    db,
    appId,
    async close() {
      await db.destroy();
      await tdb.drop();
    },
  };
}

/** A plain accepted notification row, as the request path writes one. */
export function acceptedNotification(id: string, appId: string, recipients = 1): SerializedNotification {
  return {
    id,
    appId,
    eventId: null,
    status: 'accepted',
    category: null,
    priority: 'normal',
    requestJson: '{}',
    sendAt: null,
    expiresAt: null,
    recipients,
    templateKey: null,
    templateVersion: null,
  };
}

/**
 * One delivery in a notification of its own, stored as the request path stores it: `queued` when
 * the plan has a job (`{}` unless given), `pending` with `job: null`. Answers the delivery's id.
 */
export async function storeOneDelivery(
  s: StoreDatabase,
  plan: Partial<Omit<DeliveryPlan, 'job'>> & { job?: DeliveryPlan['job'] | null } = {},
): Promise<string> {
  const id = plan.id ?? newId();
  const notificationId = plan.job?.notificationId ?? newId();
  const [row] = serializeDeliveries([
    {
      notificationId,
      appId: s.appId,
      plan: {
        userId: null,
        contactId: null,
        channel: 'email',
        plugin: 'smtp',
        status: 'pending',
        reason: null,
        ...plan,
        id,
        job: plan.job ?? null,
      },
    },
  ]);
  // No job given: `{}`, so the row is written queued; `job: null`: no job, so it stays pending.
  const jobJson = plan.job === undefined ? '{}' : row!.jobJson;
  await insertNotifications(s.db, [acceptedNotification(notificationId, s.appId)], [{ ...row!, jobJson }]);
  return id;
}
