import type { DeliveryJob, Priority } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { fanoutJobOptions } from '../scheduling/fanout-job';
import { delayUntil, Enqueuer } from './enqueuer';
import { FANOUT_QUEUE } from './fanout.constants';
import { QueueReconciler } from './queue-reconciler';
import { QueueRegistry } from './queue-registry';

/**
 * Re-enqueues what was accepted but never reached Redis, or that Redis lost: `queued` deliveries
 * whose job Redis no longer holds (QueueReconciler), deliveries left `pending` and fan-outs
 * without a job (Redis was down, or the API died between commit and enqueue). Enqueueing is
 * idempotent (job id = delivery id), so sweeping twice or from two processes is harmless.
 */
@Injectable()
export class Sweeper extends PeriodicTask {
  private readonly log = new Logger('sweeper');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
    private readonly queues: QueueRegistry,
    private readonly reconciler: QueueReconciler,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_SWEEP_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.sweep();
  }

  /** One pass; returns how many deliveries and fan-outs it re-enqueued. */
  async sweep(
    olderThanMs = this.env.CLARION_SWEEP_AFTER_MS,
  ): Promise<{ deliveries: number; fanouts: number }> {
    return this.exclusive(() => this.sweepOnce(olderThanMs), { deliveries: 0, fanouts: 0 });
  }

  private async sweepOnce(olderThanMs: number): Promise<{ deliveries: number; fanouts: number }> {
    try {
      // Redis lost jobs (restarted empty or stale)? Then some `queued` deliveries have none: add them again first.
      await this.reconciler.reconcile(olderThanMs);
      const rows: { job: DeliveryJob; send_at: Date | null }[] = await this.db.query(
        `SELECT d.job, GREATEST(n.send_at, d.held_until) AS send_at FROM deliveries d JOIN notifications n ON n.id = d.notification_id
          WHERE d.status = 'pending' AND d.updated_at < now() - ($1 || ' milliseconds')::interval AND d.job IS NOT NULL
          ORDER BY d.updated_at LIMIT 5000`,
        [String(olderThanMs)],
      );
      let deliveries = 0;
      if (rows.length > 0) {
        const ok = await this.enqueuer.enqueue(
          rows.map((r) => ({
            job: r.job,
            delayMs: delayUntil(r.send_at),
          })),
        );
        deliveries = ok.filter(Boolean).length;
      }
      const fanouts: { id: string; app_id: string; send_at: Date | null; priority: Priority }[] =
        await this.db.query(
          `SELECT id, app_id, send_at, priority FROM notifications WHERE status = 'fanout'
          AND created_at < now() - ($1 || ' milliseconds')::interval LIMIT 100`,
          [String(olderThanMs)],
        );
      let readded = 0;
      for (const f of fanouts) {
        try {
          await this.queues
            .named(FANOUT_QUEUE)
            .add(
              'fanout',
              { notificationId: f.id, appId: f.app_id },
              fanoutJobOptions(f.id, f.priority, f.send_at ? f.send_at.getTime() - Date.now() : 0),
            );
          readded++;
        } catch {
          break; // Redis still away
        }
      }
      if (deliveries + readded > 0)
        this.log.log(`re-enqueued ${deliveries} deliveries and ${readded} fan-outs`);
      return { deliveries, fanouts: readded };
    } catch (error) {
      this.log.warn(`sweep failed: ${(error as Error).message}`);
      return { deliveries: 0, fanouts: 0 };
    }
  }
}
