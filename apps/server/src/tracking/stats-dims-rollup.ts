import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { tryTransactionLock } from '../database/advisory-lock';
import { dimensionsRolledUpUntil, rollUpDimensions } from '../deliveries/stats-rollup';

/** Only one process rolls up at a time (any number of worker pods may run this). */
const LOCK_KEY = 7_400_012;
const HOUR_MS = 3_600_000;
/**
 * An hour is rolled up once it ended this long ago: a batch counts into the hour its statement
 * started in, and may commit a little after the hour. The hour before the mark is rolled up once
 * more each pass, so a write later still is counted too.
 */
const SETTLE_MS = 5 * 60_000;
/** At most this many hours per pass (after a long stop, the backlog is caught up a day at a time). */
const MAX_HOURS_PER_PASS = 24;

/**
 * Derives the dimension rows of GET /v1/stats (`delivery_stats_dim`) from the full rollup for the
 * hours that have closed (deliveries/stats-rollup.ts says why they are no longer written with the
 * deliveries). Until an hour is rolled up its counts are read live, so nothing waits for this.
 */
@Injectable()
export class StatsDimsRollup extends PeriodicTask {
  private readonly log = new Logger('stats-rollup');

  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_STATS_ROLLUP_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.rollUp().catch((error: Error) => this.log.warn(`stats roll-up failed: ${error.message}`));
  }

  /** One pass; answers the new mark (null if another process holds the lock or a pass is running here). */
  async rollUp(now = new Date()): Promise<Date | null> {
    return this.exclusive(
      () =>
        this.db.transaction(async (tx) => {
          if (!(await tryTransactionLock(tx, LOCK_KEY))) return null;
          const mark = await dimensionsRolledUpUntil(tx);
          const closed = floorHour(now.getTime() - SETTLE_MS);
          const to = Math.min(closed, mark.getTime() + MAX_HOURS_PER_PASS * HOUR_MS);
          const from = Math.min(mark.getTime(), to) - HOUR_MS;
          await rollUpDimensions(tx, new Date(from), new Date(to));
          return new Date(Math.max(mark.getTime(), to));
        }),
      null,
    );
  }
}

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
