import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { rows as queryRows } from '../database/rows';

/**
 * Deletes eventId claims older than the dedup window, a batch per statement, so no statement
 * holds many row locks or runs long. SKIP LOCKED: a claim being taken over by a request right now
 * is left for the next pass instead of making either side wait. Several workers purging at once
 * is harmless. (Expired claims no longer block a new notification even before they are purged:
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

  /** One pass: deletes batches until none is full (at most 100 batches, the rest waits a pass). Returns rows deleted. */
  async purge(): Promise<number> {
    return this.exclusive(() => this.purgeOnce(), 0);
  }

  private async purgeOnce(): Promise<number> {
    let total = 0;
    try {
      for (let i = 0; i < 100; i++) {
        const rows = await queryRows(
          this.db,
          `DELETE FROM event_ids WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM event_ids WHERE created_at < now() - $1::float8 * interval '1 hour'
              LIMIT $2 FOR UPDATE SKIP LOCKED))
           RETURNING 1`,
          [this.env.CLARION_DEDUP_WINDOW_HOURS, this.env.CLARION_DEDUP_PURGE_BATCH],
        );
        total += rows.length;
        if (rows.length < this.env.CLARION_DEDUP_PURGE_BATCH) break;
      }
      if (total > 0)
        this.log.log(`purged ${total} eventId claims older than ${this.env.CLARION_DEDUP_WINDOW_HOURS} h`);
    } catch (error) {
      this.log.warn(`eventId purge failed (next pass retries): ${(error as Error).message}`);
    }
    return total;
  }
}
