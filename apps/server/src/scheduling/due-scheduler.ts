import type { DeliveryJob } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { rows } from '../database/rows';
import { delayUntil, Enqueuer } from '../delivery/enqueuer';

/**
 * Moves scheduled notifications on once their sendAt has passed (`scheduled` → `accepted`), and
 * re-adds the jobs of their still-unsent deliveries. The delayed BullMQ job normally sends on
 * time and the re-add is a no-op (job id = delivery id); but if Redis lost its data (restart
 * without persistence, failover) the delayed jobs are gone, and this brings them back within
 * one interval. Already-sent deliveries are protected by the sent ledger. SKIP LOCKED: with
 * several workers each due notification is taken by one.
 */
@Injectable()
export class DueScheduler extends PeriodicTask {
  private readonly log = new Logger('scheduler');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_SCHEDULE_CHECK_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.tick();
  }

  /** One pass; returns how many notifications became due. */
  async tick(): Promise<number> {
    return this.exclusive(() => this.tickOnce(), 0);
  }

  private async tickOnce(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const due = await rows<{ id: string }>(
          this.db,
          `UPDATE notifications n SET status = 'accepted'
             FROM (SELECT id FROM notifications WHERE status = 'scheduled' AND send_at <= now()
                    ORDER BY send_at LIMIT 500 FOR UPDATE SKIP LOCKED) due
            WHERE n.id = due.id RETURNING n.id`,
        );
        if (due.length === 0) break;
        total += due.length;
        // A delivery held past sendAt (quiet hours, a deferring cap) keeps its hold when re-added.
        const jobs = await rows<{ job: DeliveryJob; held_until: Date | null }>(
          this.db,
          `SELECT job, held_until FROM deliveries WHERE notification_id = ANY($1::uuid[]) AND status IN ('pending', 'queued') AND job IS NOT NULL`,
          [due.map((d) => d.id)],
        );
        if (jobs.length > 0)
          await this.enqueuer.enqueue(jobs.map((j) => ({ job: j.job, delayMs: delayUntil(j.held_until) })));
        if (due.length < 500) break;
      }
    } catch (error) {
      this.log.warn(`scheduled check failed (next pass retries): ${(error as Error).message}`);
    }
    return total;
  }
}
