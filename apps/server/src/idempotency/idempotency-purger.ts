import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { rows as queryRows } from '../database/rows';

const BATCH = 5000;

/**
 * Deletes expired `Idempotency-Key` answers, a batch per statement (SKIP LOCKED: a key being
 * taken over right now waits for the next pass). An expired row no longer replays even before
 * it is deleted (IdempotencyStore.claim takes it over).
 */
@Injectable()
export class IdempotencyPurger extends PeriodicTask {
  private readonly log = new Logger('idempotency');

  constructor(
    @Inject(ENV) private readonly env: Env,
    private readonly db: DataSource,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_IDEMPOTENCY_PURGE_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.purge();
  }

  /** One pass; returns the rows deleted. */
  async purge(): Promise<number> {
    return this.exclusive(async () => {
      let total = 0;
      try {
        for (let i = 0; i < 100; i++) {
          const rows = await queryRows(
            this.db,
            `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))
             RETURNING 1`,
            [BATCH],
          );
          total += rows.length;
          if (rows.length < BATCH) break;
        }
      } catch (error) {
        this.log.warn(`idempotency key purge failed (next pass retries): ${(error as Error).message}`);
      }
      return total;
    }, 0);
  }
}
