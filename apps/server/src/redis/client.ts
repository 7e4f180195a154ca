import type { RedisConnection } from '@clarion/plugin-sdk';
import { Cluster, Redis } from 'ioredis';
import { authOptions, type ConnectionOptions, type RedisSettings, redisOptions } from './connection-options';

/** What a caller may set on a connection, whatever Redis is behind it. */
export type ClientSettings = Pick<
  ConnectionOptions,
  'enableOfflineQueue' | 'maxRetriesPerRequest' | 'connectTimeout' | 'enableAutoPipelining' | 'lazyConnect'
>;

/**
 * A client for the configured Redis: a node, the master Sentinels name, or (REDIS_CLUSTER_NODES)
 * a Redis Cluster, which follows MOVED/ASK redirections and a replica's promotion by itself.
 * Every server connection, BullMQ's included, comes from here.
 */
export function createRedis(settings: RedisSettings, client: ClientSettings = {}): RedisConnection {
  if (!settings.REDIS_CLUSTER_NODES) return new Redis(redisOptions(settings, client));
  const { enableOfflineQueue, enableAutoPipelining, lazyConnect, ...perNode } = client;
  // A cluster has database 0 only.
  const { db: _db, ...auth } = authOptions(settings);
  return new Cluster(settings.REDIS_CLUSTER_NODES, {
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    // Where TLS certificates name the nodes' host names, not the addresses the cluster announces.
    ...(auth.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    redisOptions: { ...auth, ...perNode },
  });
}

/** Whether keys should carry one hash tag per queue (a Redis Cluster) or share one. */
export function isCluster(settings: Pick<RedisSettings, 'REDIS_CLUSTER_NODES'>): boolean {
  return settings.REDIS_CLUSTER_NODES !== undefined;
}
