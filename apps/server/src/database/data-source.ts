import { DataSource } from 'typeorm';
import { Init1764000000000 } from './migrations/1764000000000-init';
import { Preferences1764100000000 } from './migrations/1764100000000-preferences';
import { Templates1764200000000 } from './migrations/1764200000000-templates';
import { QuietHoursAndHolds1764300000000 } from './migrations/1764300000000-quiet-hours-and-holds';
import { Tracking1764400000000 } from './migrations/1764400000000-tracking';
import { Scheduling1764600000000 } from './migrations/1764600000000-scheduling';
import { DropUnusedDeliveryIndex1764700000000 } from './migrations/1764700000000-drop-unused-delivery-index';
import { StatsBucketIndex1764800000000 } from './migrations/1764800000000-stats-bucket-index';
import { DurableSentRecord1764950000000 } from './migrations/1764950000000-durable-sent-record';
import { UserTokenSecretRotation1764960000000 } from './migrations/1764960000000-user-token-secret-rotation';
import { RedrivableIndex1764970000000 } from './migrations/1764970000000-redrivable-index';
import { IdempotencyKeys1764980000000 } from './migrations/1764980000000-idempotency-keys';
import { ContactChannel1765060000001 } from './migrations/1765060000001-contact-channel';
import { PartitionDeliveries1765090000000 } from './migrations/1765090000000-partition-deliveries';
import { InboxMessages1765110000001 } from './migrations/1765110000001-inbox-messages';
import { NotificationSteps1765200000001 } from './migrations/1765200000001-notification-steps';
import { Digests1765200000002 } from './migrations/1765200000002-digests';
import { LeanDeliveryWrites1765200000003 } from './migrations/1765200000003-lean-delivery-writes';
import { NotificationDeliveriesKeyset1765200000004 } from './migrations/1765200000004-notification-deliveries-keyset';
import { StatsDimsRolledUp1765200000012 } from './migrations/1765200000012-stats-dims-rolled-up';
import { NotificationsInProgressIndex1765200000013 } from './migrations/1765200000013-notifications-in-progress-index';
import { HotStatusUpdates1765200000014 } from './migrations/1765200000014-hot-status-updates';
import { NotificationDeliveryFloor1765200000015 } from './migrations/1765200000015-notification-delivery-floor';
import { Lz4DeliveryJobs1765200000016 } from './migrations/1765200000016-lz4-delivery-jobs';
import { DeliveryPayloadStatistics1765200000017 } from './migrations/1765200000017-delivery-payload-statistics';
import { DeliveryJobStatistics1765200000018 } from './migrations/1765200000018-delivery-job-statistics';

/** All migrations, in order. Schema changes happen only here (never `synchronize`). */
export const MIGRATIONS = [
  Init1764000000000,
  Preferences1764100000000,
  Templates1764200000000,
  QuietHoursAndHolds1764300000000,
  Scheduling1764600000000,
  Tracking1764400000000,
  DropUnusedDeliveryIndex1764700000000,
  StatsBucketIndex1764800000000,
  DurableSentRecord1764950000000,
  UserTokenSecretRotation1764960000000,
  RedrivableIndex1764970000000,
  IdempotencyKeys1764980000000,
  ContactChannel1765060000001,
  PartitionDeliveries1765090000000,
  InboxMessages1765110000001,
  NotificationSteps1765200000001,
  Digests1765200000002,
  LeanDeliveryWrites1765200000003,
  NotificationDeliveriesKeyset1765200000004,
  StatsDimsRolledUp1765200000012,
  NotificationsInProgressIndex1765200000013,
  HotStatusUpdates1765200000014,
  NotificationDeliveryFloor1765200000015,
  Lz4DeliveryJobs1765200000016,
  DeliveryPayloadStatistics1765200000017,
  DeliveryJobStatistics1765200000018,
];

export function createDataSource(url: string, poolSize = 20): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: 'clarion_migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  });
}

/** `clarion migrate`: applies pending migrations in one transaction each; safe to run twice. */
export async function runMigrations(url: string): Promise<string[]> {
  const ds = createDataSource(url, 2);
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
