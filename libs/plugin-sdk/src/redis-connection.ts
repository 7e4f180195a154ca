import type { Cluster, Redis } from 'ioredis';

/** A connection to one Redis (a node, or the master Sentinels name) or to a Redis Cluster. */
export type RedisConnection = Redis | Cluster;

/** Per-command settings a duplicate may change; on a cluster they apply to every node's connection. */
export interface DuplicateSettings {
  maxRetriesPerRequest?: number | null;
  enableAutoPipelining?: boolean;
}

/**
 * A new connection like `connection`, with `settings` changed. ioredis duplicates a cluster
 * with other arguments (seed nodes, then cluster options holding the nodes' own options).
 */
export function duplicateConnection(
  connection: RedisConnection,
  settings: DuplicateSettings,
): RedisConnection {
  if (!connection.isCluster) return (connection as Redis).duplicate(settings);
  const cluster = connection as Cluster;
  const { maxRetriesPerRequest, enableAutoPipelining } = settings;
  return cluster.duplicate([], {
    ...(enableAutoPipelining !== undefined ? { enableAutoPipelining } : {}),
    redisOptions: {
      ...cluster.options.redisOptions,
      ...(maxRetriesPerRequest !== undefined ? { maxRetriesPerRequest } : {}),
    },
  });
}
