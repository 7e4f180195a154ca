import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { deleteInBatches } from '../database/batched-delete';

const BATCH = 5000;

/**
 * Deletes expired `Idempotency-Key` answers in batches (deleteInBatches). An expired row no longer replays even before
 * it is deleted (IdempotencyRepository.claim takes it over).
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
      try {
        return await deleteInBatches(this.db, {
          table: 'idempotency_keys',
          where: 'expires_at <= now()',
          batch: BATCH,
        });
      } catch (error) {
        this.log.warn(`idempotency key purge failed (next pass retries): ${(error as Error).message}`);
        return 0;
      }
    }, 0);
  }
}
