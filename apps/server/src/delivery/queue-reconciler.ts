import { once } from 'node:events';
import type { DeliveryJob } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PRODUCER_REDIS } from '../redis/redis.module';
import { delayUntil, Enqueuer } from './enqueuer';

const PAGE = 5000;
/** How long start-up waits for a Redis that is still connecting before it checks. */
const STARTUP_WAIT_MS = 10_000;

/**
 * The producer connection has no offline queue (the request path must fail fast), so a command
 * sent while it is still connecting fails at once. Resolves once it is ready; rejects on its
 * first connection error (Redis away) or after `timeoutMs`.
 */
async function ready(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await once(redis, 'ready', { signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * PostgreSQL holds the truth, Redis only the queues. When Redis comes back empty (restart
 * without persistence, failover to a replica that lagged, FLUSHALL), the jobs of deliveries
 * already marked `queued` are gone and the sweeper (which looks at `pending`) would never send
 * them. A marker key tells whether this Redis still holds what we put there: when it is
 * missing, every `queued` delivery is added again (job id = delivery id, so jobs still in Redis
 * are untouched), and only then is the marker written, so a crash mid-way repeats the pass.
 *
 * Every process (API and worker) checks once at start, before it serves: a new install's first
 * process finds nothing queued and writes the marker at once. Left to the worker's first sweep,
 * deliveries accepted meanwhile would be taken for lost (a false alarm and a pass of needless adds).
 */
@Injectable()
export class QueueReconciler implements OnApplicationBootstrap {
  private readonly log = new Logger('reconciler');

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
  ) {}

  private get markerKey(): string {
    return `${this.env.CLARION_QUEUE_PREFIX}:queues-intact`;
  }

  async onApplicationBootstrap(): Promise<void> {
    // Redis away at start is not fatal here: the sweeper runs the same check on every pass.
    try {
      await ready(this.redis, STARTUP_WAIT_MS);
      await this.reconcileIfRedisLost();
    } catch (error) {
      this.log.warn(`could not check the queues at start (the sweeper will): ${(error as Error).message}`);
    }
  }

  /** Re-adds queued deliveries if Redis lost its data; returns how many were re-added. Throws if Redis is away. */
  async reconcileIfRedisLost(): Promise<number> {
    if ((await this.redis.exists(this.markerKey)) === 1) return 0;
    let readded = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // Due at the later of the notification's sendAt and the delivery's own hold (quiet hours, a deferring cap).
      const rows: { id: string; job: DeliveryJob; send_at: Date | null }[] = await this.db.query(
        `SELECT d.id, d.job, GREATEST(n.send_at, d.held_until) AS send_at
           FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.status = 'queued' AND d.job IS NOT NULL AND d.id > $1::uuid
          ORDER BY d.id LIMIT ${PAGE}`,
        [after],
      );
      if (rows.length === 0) break;
      const ok = await this.enqueuer.enqueue(
        rows.map((r) => ({
          job: r.job,
          delayMs: delayUntil(r.send_at),
        })),
      );
      if (ok.some((queued) => !queued)) throw new Error('Redis refused the re-enqueue; will try again');
      readded += rows.length;
      after = rows.at(-1)!.id;
    }
    await this.redis.set(this.markerKey, new Date().toISOString());
    if (readded > 0)
      this.log.warn(`Redis had lost its queues: re-added ${readded} queued deliveries from PostgreSQL`);
    return readded;
  }
}
