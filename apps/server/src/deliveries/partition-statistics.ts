import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { tryTransactionLock } from '../database/advisory-lock';
import { dayPartition } from './partitions';

const LOCK_KEY = 7_400_016;
/** PostgreSQL's lock_timeout error. */
const LOCK_NOT_AVAILABLE = '55P03';

/** A day partition is analysed once at least this many of its rows changed since its last analyse. */
export const ANALYZE_MIN_CHANGED_ROWS = 1000;

/** The day partitions taking today's (UTC) rows: deliveries, their events, their provider ids. */
export function todaysPartitions(now: Date): string[] {
  const p = dayPartition(now.toISOString().slice(0, 10).replaceAll('-', ''));
  return [p.deliveries, p.events, p.providerMessages];
}

/**
 * ANALYZEs each of today's day partitions that has doubled since its last analyse (or took its
 * first ANALYZE_MIN_CHANGED_ROWS rows), one process at a time. Answers the partitions analysed, or
 * `busy` when another process is at it or a vacuum holds the partition (the next pass tries again).
 * Only partitions this database user may analyse are looked at.
 */
export async function analyzeGrownPartitions(db: DataSource, now = new Date()): Promise<string[] | 'busy'> {
  const grown: { name: string }[] = await db.query(
    `SELECT c.relname AS name FROM pg_class c
      -- Resolved through the search path, as the ANALYZE below and every other statement are.
      WHERE c.oid IN (SELECT to_regclass(n) FROM unnest($1::text[]) n)
        AND c.relkind = 'r' AND pg_has_role(c.relowner, 'USAGE')
        AND pg_stat_get_mod_since_analyze(c.oid) >= greatest($2::float8, c.reltuples)
      ORDER BY c.relname`,
    [todaysPartitions(now), ANALYZE_MIN_CHANGED_ROWS],
  );
  if (grown.length === 0) return [];
  try {
    return await db.transaction(async (tx) => {
      if (!(await tryTransactionLock(tx, LOCK_KEY))) return 'busy' as const;
      // A partition autovacuum is working on: leave it to autovacuum. Waiting longer than the
      // deadlock check (1 s) would make PostgreSQL cancel autovacuum for us.
      await tx.query(`SET LOCAL lock_timeout = '500ms'`);
      // Names from pg_class, matched against our own pattern above: safe to quote as identifiers.
      for (const { name } of grown) await tx.query(`ANALYZE "${name}"`);
      return grown.map((g) => g.name);
    });
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) return 'busy';
    throw error;
  }
}

/**
 * Keeps the planner's picture of today's partitions current while they fill. Each connection keeps
 * the generic plans of its prepared hot statements until PostgreSQL invalidates them, which an
 * ANALYZE of a partition in the plan does. A plan made while the day's partition held a few rows
 * scans it sequentially, and goes on doing so as it grows to millions: measured at 40–60 ms a
 * status write instead of about 1 ms (docs/benchmarks.md, session 7). Autovacuum analyses a table
 * once a tenth of it changed, but only at its next visit (up to a minute away), and not at all where
 * it is off; so from midnight UTC on, this analyses each partition of the day at every doubling:
 * about twenty times on a day of millions, each a sample of 30,000 rows. Every process runs the
 * check (both roles write deliveries); an advisory lock keeps the ANALYZEs to one at a time.
 */
@Injectable()
export class PartitionStatistics extends PeriodicTask {
  private readonly log = new Logger('partitions');

  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.env.CLARION_PARTITION_ANALYZE_INTERVAL_MS;
  }

  protected pass(): Promise<unknown> {
    return this.exclusive(
      () =>
        analyzeGrownPartitions(this.db)
          .then((done) => {
            if (Array.isArray(done) && done.length > 0) this.log.debug(`analysed ${done.join(', ')}`);
          })
          .catch((error: Error) => this.log.warn(`analysing today's partitions failed: ${error.message}`)),
      undefined,
    );
  }
}
