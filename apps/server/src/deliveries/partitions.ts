import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';

/** Days of partitions kept ready ahead of today: a week of the task not running loses nothing. */
export const PARTITION_DAYS_AHEAD = 7;
const HOUR_MS = 3_600_000;

/** A day partition of `deliveries` with its `delivery_events` and `provider_messages` twins. */
export interface DayPartition {
  day: string;
  deliveries: string;
  events: string;
  providerMessages: string;
}

/** The partitions of one day (`YYYYMMDD`, UTC), by the names the migration's function gives them. */
export function dayPartition(day: string): DayPartition {
  return {
    day,
    deliveries: `deliveries_p${day}`,
    events: `delivery_events_p${day}`,
    providerMessages: `provider_messages_p${day}`,
  };
}

/** Below this size a dropped partition's rows are counted exactly (reading it is cheap). */
const EXACT_COUNT_BYTES = 64 * 1024 * 1024;

const DAY_PARTITION = /^deliveries_p(\d{4})(\d{2})(\d{2})$/;

/**
 * Makes the day partitions of deliveries and delivery_events from yesterday to `ahead` days on
 * (the migration's `clarion_add_delivery_partitions`: idempotent, serialised by an advisory lock,
 * and it moves any default-partition rows of a new day into it). Returns how many it made.
 */
export async function addDeliveryPartitions(
  db: DataSource,
  now = new Date(),
  ahead = PARTITION_DAYS_AHEAD,
): Promise<number> {
  const [row]: { made: number }[] = await db.query(
    `SELECT clarion_add_delivery_partitions(($1::timestamptz AT TIME ZONE 'UTC')::date - 1,
                                           ($1::timestamptz AT TIME ZONE 'UTC')::date + $2::int) AS made`,
    [now, ahead],
  );
  return Number(row?.made ?? 0);
}

/** The day partitions whose whole day is before `cut` (UTC), oldest first. */
export async function dayPartitionsBefore(db: DataSource, cut: Date): Promise<DayPartition[]> {
  const found: { name: string }[] = await db.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'deliveries'::regclass ORDER BY c.relname`,
  );
  const out: DayPartition[] = [];
  for (const { name } of found) {
    const m = DAY_PARTITION.exec(name);
    if (!m) continue;
    const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (start + 86_400_000 > cut.getTime()) continue;
    out.push(dayPartition(`${m[1]}${m[2]}${m[3]}`));
  }
  return out;
}

/**
 * Detaches and drops one day of deliveries and events, in one short transaction: the locks are
 * on the parents for the detach only, and dropping a table writes no per-row WAL and leaves no
 * dead rows. Returns the rows the statistics estimate it held (an exact count would read the day).
 */
export async function dropDayPartition(
  db: DataSource,
  p: DayPartition,
): Promise<{ deliveries: number; events: number }> {
  return db.transaction(async (m) => {
    // The detach locks the parents; never queue every insert behind a long reader: fail, retry next pass.
    await m.query(`SET LOCAL lock_timeout = '2s'`);
    const rowsOf = async (table: string): Promise<number> => {
      const [est]: { n: number; bytes: number }[] = await m.query(
        `SELECT reltuples::float8 AS n, pg_relation_size(oid)::float8 AS bytes FROM pg_class WHERE oid = $1::regclass`,
        [table],
      );
      // A real day (gigabytes) is estimated; a small one is counted (its statistics may be unset).
      if (est && est.bytes > EXACT_COUNT_BYTES && est.n >= 0) return Math.round(est.n);
      const [exact]: { n: number }[] = await m.query(`SELECT count(*)::float8 AS n FROM "${table}"`);
      return exact?.n ?? 0;
    };
    const counts = { deliveries: await rowsOf(p.deliveries), events: await rowsOf(p.events) };
    // The day's provider ids go with it; partitions made before that table existed have no twin.
    const [twin]: { name: string | null }[] = await m.query(`SELECT to_regclass($1)::text AS name`, [
      p.providerMessages,
    ]);
    if (twin?.name) {
      await m.query(`ALTER TABLE provider_messages DETACH PARTITION "${twin.name}"`);
      await m.query(`DROP TABLE "${twin.name}"`);
    }
    await m.query(`ALTER TABLE delivery_events DETACH PARTITION "${p.events}"`);
    await m.query(`ALTER TABLE deliveries DETACH PARTITION "${p.deliveries}"`);
    await m.query(`DROP TABLE "${p.events}", "${p.deliveries}"`);
    // Failed or expired deliveries of the day the app never redrove (a few rows, by primary key).
    await m.query(
      `DELETE FROM unsettled_deliveries
        WHERE id >= clarion_uuidv7_floor(to_date($1, 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC')
          AND id < clarion_uuidv7_floor((to_date($1, 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC')`,
      [p.day],
    );
    return counts;
  });
}

/**
 * Keeps day partitions ready ahead of time: at start and every hour, on every worker (the
 * function is idempotent and serialised, so concurrent runs are harmless).
 */
@Injectable()
export class DeliveryPartitions extends PeriodicTask {
  private readonly log = new Logger('partitions');

  constructor(private readonly db: DataSource) {
    super();
  }

  protected intervalMs(): number {
    return HOUR_MS;
  }

  override onApplicationBootstrap(): void {
    super.onApplicationBootstrap();
    void this.pass();
  }

  protected pass(): Promise<unknown> {
    return this.exclusive(
      () =>
        addDeliveryPartitions(this.db)
          .then((made) => {
            if (made > 0) this.log.log(`made ${made} day partition(s) of deliveries and delivery_events`);
          })
          .catch((error: Error) => this.log.warn(`making partitions failed: ${error.message}`)),
      undefined,
    );
  }
}
