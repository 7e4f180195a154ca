import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { uuidv7Floor } from '../common/ids';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { tryTransactionLock } from '../database/advisory-lock';
import { purgeEventIds, purgeNotifications, purgeStats } from '../deliveries/delivery-store';
import { dayPartitionsBefore, dropDayPartition } from '../deliveries/partitions';
import { purgeInboxMessages } from '../deliveries/store/purge';

export interface RetentionResult {
  deliveries: number;
  deliveryEvents: number;
  notifications: number;
  eventIds: number;
  /** Whole days of deliveries and events dropped (their rows, as estimated, are in the counts above). */
  partitions: number;
  /** Rows of the hourly stats rollups (both tables) older than CLARION_STATS_RETENTION_DAYS. */
  statsRows: number;
  /** In-app inbox messages older than CLARION_INBOX_RETENTION_DAYS. */
  inboxMessages: number;
  batches: number;
}

/** Below every UUID: where the walk over inbox messages starts. */
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** Only one process prunes at a time (any number of worker pods may run this). */
const LOCK_KEY = 7_400_007;

/**
 * Drops deliveries and their events a whole day partition at a time once the day is wholly older
 * than CLARION_RETENTION_DAYS (a DROP leaves no dead rows for vacuum and writes next to no WAL), so
 * a delivery stays up to one day past the retention; the counts of dropped rows are the planner's
 * estimates (an exact count would read the whole day). Notifications, expired event ids and the stats rollups older than
 * CLARION_STATS_RETENTION_DAYS are deleted in small batches, each its own short transaction: the
 * hot tables are never locked for long, and new rows (at the right edge of the time-ordered ids)
 * are untouched. Deliveries and notifications are cut by id (UUIDv7 is time-ordered). Inbox
 * messages older than CLARION_INBOX_RETENTION_DAYS go the same way, walked by id and judged by their
 * `created_at`; a user's unread count and feed are read from the rows, so nothing else needs fixing.
 */
@Injectable()
export class Retention extends PeriodicTask {
  private readonly log = new Logger('retention');

  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_RETENTION_DAYS > 0 ? this.env.CLARION_RETENTION_INTERVAL_MS : 0;
  }

  protected pass(): Promise<unknown> {
    return this.prune().catch((error: Error) => this.log.warn(`retention run failed: ${error.message}`));
  }

  /** One full pass; returns what it deleted (null if another process holds the lock). */
  async prune(
    now = new Date(),
    days = this.env.CLARION_RETENTION_DAYS,
    batch = this.env.CLARION_RETENTION_BATCH,
  ): Promise<RetentionResult | null> {
    return this.exclusive(() => this.pruneOnce(now, days, batch), null);
  }

  private async pruneOnce(now: Date, days: number, batch: number): Promise<RetentionResult | null> {
    const cut = new Date(now.getTime() - days * 86_400_000);
    // A transaction-scoped lock, held by a transaction left open while the batches run on other
    // connections: behind PgBouncer in transaction mode a session lock would stay on whichever
    // server connection took it, and the unlock could reach another. The open transaction has
    // no snapshot between its statements (read committed), so it holds back no vacuum.
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      if (!(await tryTransactionLock(runner, LOCK_KEY))) return null;
      return await this.deleteOlderThan(cut, batch, now);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  }

  private async deleteOlderThan(exactCut: Date, batch: number, now: Date): Promise<RetentionResult> {
    // Whole UTC days: deliveries go a day partition at a time, and their notifications with them.
    const cut = new Date(Math.floor(exactCut.getTime() / 86_400_000) * 86_400_000);
    let floor = uuidv7Floor(cut);
    const result: RetentionResult = {
      deliveries: 0,
      deliveryEvents: 0,
      notifications: 0,
      eventIds: 0,
      partitions: 0,
      statsRows: 0,
      inboxMessages: 0,
      batches: 0,
    };
    for (const day of await dayPartitionsBefore(this.db, cut)) {
      try {
        const dropped = await dropDayPartition(this.db, day);
        result.partitions++;
        result.deliveries += dropped.deliveries;
        result.deliveryEvents += dropped.events;
      } catch (error) {
        // A long reader kept the detach waiting: that day and younger ones go on the next pass,
        // and so do their notifications (none is deleted while its deliveries stay).
        this.log.warn(
          `dropping deliveries of ${day.day} failed, retried next pass: ${(error as Error).message}`,
        );
        floor = uuidv7Floor(
          new Date(`${day.day.slice(0, 4)}-${day.day.slice(4, 6)}-${day.day.slice(6, 8)}T00:00:00Z`),
        );
        break;
      }
    }
    for (;;) {
      const deleted = await purgeNotifications(this.db, floor, batch);
      result.batches++;
      result.notifications += deleted;
      if (deleted < batch) break;
    }
    // An event id is kept at least as long as de-duplication needs it.
    const dedupCut = new Date(
      Math.min(cut.getTime(), now.getTime() - this.env.CLARION_DEDUP_WINDOW_HOURS * 3_600_000),
    );
    for (;;) {
      const deleted = await purgeEventIds(this.db, dedupCut, batch);
      result.batches++;
      result.eventIds += deleted;
      if (deleted < batch) break;
    }
    const statsDays = this.env.CLARION_STATS_RETENTION_DAYS;
    if (statsDays > 0) {
      // Buckets are whole hours; a rollup row goes once its hour is wholly past the cut.
      const statsCut = new Date(now.getTime() - statsDays * 86_400_000 - 3_600_000);
      for (const table of ['delivery_stats', 'delivery_stats_dim'] as const) {
        for (;;) {
          const deleted = await purgeStats(this.db, table, statsCut, batch);
          result.batches++;
          result.statsRows += deleted;
          if (deleted < batch) break;
        }
      }
    }
    await this.deleteInboxMessages(now, batch, result);
    if (
      result.deliveries + result.notifications + result.eventIds + result.statsRows + result.inboxMessages >
      0
    )
      this.log.log(`pruned rows older than ${cut.toISOString()}: ${JSON.stringify(result)}`);
    return result;
  }

  /** Walks the inbox by id from the oldest, `batch` messages a statement, up to the cut's id floor. */
  private async deleteInboxMessages(now: Date, batch: number, result: RetentionResult): Promise<void> {
    const days = this.env.CLARION_INBOX_RETENTION_DAYS;
    if (days <= 0) return;
    const cut = new Date(now.getTime() - days * 86_400_000);
    const floor = uuidv7Floor(cut);
    let after = NIL_UUID;
    for (;;) {
      const step = await purgeInboxMessages(this.db, { floor, cut, after, batch });
      result.batches++;
      result.inboxMessages += step.deleted;
      if (step.seen < batch || step.last === null) break;
      after = step.last;
    }
  }
}
