import type { RedisOptions } from 'ioredis';
import type { Env } from '../config/env';

/** ioredis options BullMQ's types also accept (they type retryStrategy differently; we keep ioredis's default). */
export type ConnectionOptions = Omit<RedisOptions, 'retryStrategy'>;

export type RedisSettings = Pick<
  Env,
  | 'REDIS_URL'
  | 'REDIS_SENTINELS'
  | 'REDIS_SENTINEL_MASTER'
  | 'REDIS_SENTINEL_PASSWORD'
  | 'REDIS_CLUSTER_NODES'
>;

/**
 * ioredis options for the configured Redis: the node of REDIS_URL, or the master the Sentinels
 * name (a Redis Cluster needs a Cluster client instead: createRedis in client.ts). Every connection the server makes (its own clients and BullMQ's) is built from these, so
 * each follows a failover the same way. Plain options rather than a client, for libraries that
 * take options (@nestjs/bullmq).
 */
export function redisOptions(settings: RedisSettings, overrides: ConnectionOptions = {}): ConnectionOptions {
  if (settings.REDIS_CLUSTER_NODES)
    throw new Error('a Redis Cluster takes a Cluster client (createRedis), not node options');
  return { ...targetOptions(settings), ...authOptions(settings), ...overrides };
}

/** User, password, database and TLS from REDIS_URL: the same for a node, a Sentinel's master or each cluster node. */
export function authOptions(settings: Pick<RedisSettings, 'REDIS_URL'>): ConnectionOptions {
  const u = new URL(settings.REDIS_URL);
  const tls = u.protocol === 'rediss:';
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(tls ? { tls: {} } : {}),
  };
}

function targetOptions(settings: RedisSettings): ConnectionOptions {
  const u = new URL(settings.REDIS_URL);
  const tls = u.protocol === 'rediss:';
  return settings.REDIS_SENTINELS
    ? {
        sentinels: settings.REDIS_SENTINELS,
        name: settings.REDIS_SENTINEL_MASTER,
        ...(settings.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: settings.REDIS_SENTINEL_PASSWORD } : {}),
        // rediss:// means TLS to the master and the Sentinels alike.
        ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        // Follow a switch the Sentinels announce even while the old master still answers.
        failoverDetector: true,
      }
    : { host: u.hostname, port: Number(u.port || 6379) };
}
