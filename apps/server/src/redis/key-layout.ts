import { pluginQueueName, queuePrefix } from '@clarion/plugin-sdk';
import type { Env } from '../config/env';

export type KeyLayoutSettings = Pick<Env, 'CLARION_QUEUE_PREFIX' | 'REDIS_CLUSTER_NODES'>;

/**
 * Where the server's Redis keys go. On a single node or behind Sentinels every key keeps the one
 * hash tag CLARION_QUEUE_PREFIX (`{clarion}:…`), as installations already have them. On a Redis
 * Cluster each queue gets its own tag (`{clarion/clarion.apns}:…`), with its send gate, sent
 * ledger and cancel marks beside it, and counters that serve one user or one app are tagged with
 * that user or app, so the load spreads over the shards.
 */
export class KeyLayout {
  private readonly perQueue: boolean;
  /** The tag's text without braces: `clarion`. */
  private readonly base: string;

  constructor(private readonly settings: KeyLayoutSettings) {
    this.perQueue = settings.REDIS_CLUSTER_NODES !== undefined;
    this.base = settings.CLARION_QUEUE_PREFIX.replace(/^\{|\}$/g, '');
  }

  /** BullMQ prefix (and gate prefix) of the queue `name`. */
  queue(name: string): string {
    return queuePrefix(this.settings.CLARION_QUEUE_PREFIX, name, this.perQueue);
  }

  plugin(plugin: string): string {
    return this.queue(pluginQueueName(plugin));
  }

  /**
   * rate-limiter-flexible keyPrefix of counters of `kind` (`cap`, `quota:…`). On a cluster it
   * carries no tag: each counter's key then decides its slot (see `userKey`).
   */
  counterPrefix(kind: string): string {
    return this.perQueue ? `${this.base}:${kind}` : `${this.settings.CLARION_QUEUE_PREFIX}:${kind}`;
  }

  /** A per-user counter key: on a cluster in the user's slot (`{app:user}:…`), else as before. */
  userKey(appId: string, userId: string, rule: string, window: string | number): string {
    return this.perQueue ? `{${appId}:${userId}}:${rule}:${window}` : `${appId}:${rule}:${userId}:${window}`;
  }
}
