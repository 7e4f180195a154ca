import { defineChannelPlugin, PermanentError } from '@clarion/plugin-sdk';
import { Pool } from 'pg';
import { z } from 'zod';
import type { Env } from '../config/env';
import { INBOX_CHANNEL } from '../contacts/inbox-address';
import type { LoadedPlugin } from '../plugins/plugin-loader';
import { createRedis } from '../redis/client';
import { inboxContentSchema } from './inbox-content';
import { type InboxEvent, inboxChannel } from './inbox-events';
import { insertInboxMessage } from './inbox-repository';
import { viewOf } from './inbox-view';

/**
 * The `inbox` channel as a built-in plugin: its "provider" is the server's own PostgreSQL, so the
 * delivery goes through the same queue, preferences, caps, dedup, retries and `sent` record as
 * any channel. Sending writes the message row (the delivery's id: a retry writes nothing twice)
 * and announces it on Redis for the live streams. Every user is reachable (see the planner).
 */
export function inboxPlugin(
  env: Pick<Env, 'DATABASE_URL' | 'CLARION_QUEUE_PREFIX'> & Parameters<typeof createRedis>[0],
) {
  return defineChannelPlugin({
    name: 'inbox',
    version: '1.0.0',
    sdkVersion: '^0.1.0',
    channel: INBOX_CHANNEL,
    // Never stored: the planner gives every user a synthetic address on this channel.
    addressKind: 'url',
    contentSchema: inboxContentSchema,
    config: z.object({}),
    processor: { concurrency: 20 },
    async createSender() {
      const pool = new Pool({ connectionString: env.DATABASE_URL, max: 4 });
      const redis = createRedis(env, { maxRetriesPerRequest: 2 });
      redis.on('error', () => undefined);
      const channel = inboxChannel(env);
      return {
        async send(job) {
          const content = inboxContentSchema.parse(job.content);
          if (!job.userId) throw new PermanentError('an inbox message needs a user');
          const row = await insertInboxMessage(pool, {
            id: job.deliveryId,
            appId: job.appId,
            userId: job.userId,
            notificationId: job.notificationId,
            category: job.category ?? null,
            title: content.title,
            body: content.body,
            url: content.url ?? null,
            data: content.data ?? null,
          });
          if (!row) throw new PermanentError('the user no longer exists');
          const event: InboxEvent = {
            appId: job.appId,
            userId: job.userId,
            type: 'message',
            message: viewOf(row),
          };
          // Best effort: a stream that misses it sees the message on its next list or reconnect.
          await redis.publish(channel, JSON.stringify(event)).catch(() => undefined);
          return { providerMessageId: row.id };
        },
        async close() {
          redis.disconnect();
          await pool.end();
        },
      };
    },
  });
}

/** The inbox plugin as the registry holds it: always loaded, configured by the server's own settings. */
export function loadedInboxPlugin(env: Parameters<typeof inboxPlugin>[0]): LoadedPlugin {
  return {
    packageName: '@clarion/server/inbox',
    plugin: inboxPlugin(env) as unknown as LoadedPlugin['plugin'],
    config: {},
    version: '1.0.0',
    warnings: [],
    callbackSettings: {},
  };
}
