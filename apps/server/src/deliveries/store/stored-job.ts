import type { DeliveryJob } from '@clarion/plugin-sdk';

/** Job fields the delivery row holds as columns already: stored once, in the columns. */
const FROM_COLUMNS = ['deliveryId', 'notificationId', 'appId', 'channel', 'plugin'] as const;

/**
 * The job as `deliveries.job` stores it: without the fields its row's columns hold (three ids
 * as text, the channel and the plugin: about 0.2 KB of a webhook job's ~0.45 KB, written to the
 * heap and the WAL with every delivery), and without the app's id for the user when the row names
 * the user (`userKey`, users.id: the job's `userId` is that user's external id). `jobSql` puts
 * them back when a job is read.
 */
export function storedJob(
  job: DeliveryJob,
  userKey: string | null,
): Omit<DeliveryJob, (typeof FROM_COLUMNS)[number] | keyof typeof DEFAULTS | 'userId'> &
  Partial<Pick<DeliveryJob, keyof typeof DEFAULTS | 'userId'>> {
  const {
    deliveryId: _d,
    notificationId: _n,
    appId: _a,
    channel: _c,
    plugin: _p,
    priority,
    pushType,
    userId,
    ...rest
  } = job;
  return {
    ...rest,
    ...(userKey === null && userId !== undefined ? { userId } : {}),
    ...(priority === DEFAULTS.priority ? {} : { priority }),
    ...(pushType === DEFAULTS.pushType || pushType === undefined ? {} : { pushType }),
  };
}

/**
 * Values most jobs carry, left out when stored (about 45 bytes of jsonb a delivery) and put back by
 * `jobSql`. A job without `pushType` reads back as an alert, which is what a missing one means to
 * the push plugins.
 */
const DEFAULTS = { priority: 'normal', pushType: 'alert' } as const satisfies Partial<DeliveryJob>;

/**
 * SQL for the whole job of deliveries row `d`: the stored job with the column fields, the user's
 * external id and the defaults added (a job stored whole, by a reroute, a redrive or before this change, holds the
 * same values). The
 * plugin column is null only on rows older than it; their job names its plugin. Without the batch
 * job that first carried it (ingest/delivery-batches.ts): a job read back is a job of its own.
 */
export const jobSql = (d: string): string =>
  `('${JSON.stringify(DEFAULTS)}'::jsonb
    || CASE WHEN ${d}.user_id IS NULL OR ${d}.job ? 'userId' THEN '{}'::jsonb
            ELSE COALESCE((SELECT jsonb_build_object('userId', u.external_id) FROM users u WHERE u.id = ${d}.user_id), '{}'::jsonb) END
    || (${d}.job - 'batch') || jsonb_build_object('deliveryId', ${d}.id, 'notificationId', ${d}.notification_id, 'appId', ${d}.app_id,
                                    'channel', ${d}.channel, 'plugin', COALESCE(${d}.plugin, ${d}.job->>'plugin')))`;
