import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { deleteInBatches } from '../database/batched-delete';

/**
 * Deletes eventId claims older than the dedup window in batches (deleteInBatches). (Expired claims no longer block a new notification even before they are purged:
 * see NotificationStore.)
 */
@Injectable()
export class EventIdPurger extends PeriodicTask {
  private readonly log = new Logger('dedup');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly db: DataSource,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_DEDUP_PURGE_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.purge();
  }

  /** One pass; returns the rows deleted. */
  async purge(): Promise<number> {
    return this.exclusive(() => this.purgeOnce(), 0);
  }

  private async purgeOnce(): Promise<number> {
    try {
      const total = await deleteInBatches(this.db, {
        table: 'event_ids',
        where: `created_at < now() - $2::float8 * interval '1 hour'`,
        params: [this.env.CLARION_DEDUP_WINDOW_HOURS],
        batch: this.env.CLARION_DEDUP_PURGE_BATCH,
      });
      if (total > 0)
        this.log.log(`purged ${total} eventId claims older than ${this.env.CLARION_DEDUP_WINDOW_HOURS} h`);
      return total;
    } catch (error) {
      this.log.warn(`eventId purge failed (next pass retries): ${(error as Error).message}`);
      return 0;
    }
  }
}
