import type { RedisOptions } from 'ioredis';
import type { Env } from '../config/env';

/** ioredis options BullMQ's types also accept (they type retryStrategy differently; we keep ioredis's default). */
export type ConnectionOptions = Omit<RedisOptions, 'retryStrategy'>;

export type RedisSettings = Pick<
  Env,
  'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_MASTER' | 'REDIS_SENTINEL_PASSWORD'
>;

/**
 * ioredis options for the configured Redis: the node of REDIS_URL, or the master the Sentinels
 * name. Every connection the server makes (its own clients and BullMQ's) is built from these, so
 * each follows a failover the same way. Plain options rather than a client, so each caller adds
 * its own overrides (BullMQ workers need maxRetriesPerRequest null).
 */
export function redisOptions(settings: RedisSettings, overrides: ConnectionOptions = {}): ConnectionOptions {
  const u = new URL(settings.REDIS_URL);
  const tls = u.protocol === 'rediss:';
  const auth: ConnectionOptions = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}),
    ...(tls ? { tls: {} } : {}),
  };
  const target: ConnectionOptions = settings.REDIS_SENTINELS
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
  return { ...target, ...auth, ...overrides };
}
