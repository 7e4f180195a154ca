import type { Client } from 'pg';

/** Autovacuum's defaults (PostgreSQL 15): a table is vacuumed or analysed past these. */
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE_FACTOR = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE_FACTOR = 0.1;

interface TableStats {
  name: string;
  reltuples: number;
  n_dead_tup: number;
  n_mod_since_analyze: number;
}

/** What one pass did: the tables vacuumed (with ANALYZE) and those only analysed. */
export interface StandInPass {
  vacuumed: string[];
  analyzed: string[];
}

/**
 * Production PostgreSQL runs autovacuum; this machine's runs with it off. Two things then go wrong
 * in a bench that production does not see, both measured:
 *
 * - `unsettled_deliveries` (a row in and out per delivery) piles up dead rows until every read of it
 *   slows down.
 * - Each connection keeps the generic plans of its prepared hot statements, and nothing makes
 *   PostgreSQL plan them again. A plan made in a run's first second, when the day's partition of
 *   `deliveries` held a few hundred rows, scans that partition sequentially: auto_explain showed the
 *   status write reading all 37,600 rows twice, 40–60 ms a statement, where its index lookups take
 *   about 1 ms. Autovacuum's ANALYZE of a growing partition is what invalidates those plans.
 *
 * So where autovacuum is off, the bench does its job on the run's database: every `naptimeMs` it
 * vacuums and analyses each table past autovacuum's default thresholds, one table at a time, and says
 * so. The default naptime here is 10 s, not PostgreSQL's 60 s: a run lasts about a minute, and the
 * bench measures steady state. (The server itself now analyses today's partitions at each doubling,
 * docs/scaling.md, "Plans made on a near-empty partition".)
 */
export class AutovacuumStandIn {
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pg: Client) {}

  /** Starts the stand-in where autovacuum is off; undefined where it is on (it does the job). */
  static async start(
    pg: Client,
    log: (line: string) => void,
    naptimeMs = 10_000,
  ): Promise<AutovacuumStandIn | undefined> {
    const [{ autovacuum }] = (await pg.query('SHOW autovacuum')).rows as [{ autovacuum: string }];
    if (autovacuum === 'on') return undefined;
    log(
      `this PostgreSQL runs without autovacuum: the bench vacuums and analyses its tables past autovacuum's thresholds every ${naptimeMs / 1000} s`,
    );
    const standIn = new AutovacuumStandIn(pg);
    standIn.timer = setInterval(() => void standIn.pass().catch(() => undefined), naptimeMs);
    standIn.timer.unref();
    return standIn;
  }

  /**
   * One pass over this database's tables, as an autovacuum worker makes it. A pass still running
   * when the next is due is not doubled; a table that cannot be processed now is tried next time.
   */
  async pass(): Promise<StandInPass> {
    const done: StandInPass = { vacuumed: [], analyzed: [] };
    if (this.running) return done;
    this.running = true;
    try {
      // Each pass reads fresh counters, not the snapshot of the previous one.
      await this.pg.query('SELECT pg_stat_clear_snapshot()');
      const tables = (
        await this.pg.query(
          `SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS name,
                  greatest(c.reltuples, 0)::float8 AS reltuples,
                  s.n_dead_tup::float8 AS n_dead_tup, s.n_mod_since_analyze::float8 AS n_mod_since_analyze
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            WHERE c.relkind = 'r'`,
        )
      ).rows as TableStats[];
      for (const t of tables) {
        const vacuum = t.n_dead_tup > VACUUM_THRESHOLD + VACUUM_SCALE_FACTOR * t.reltuples;
        const analyze = t.n_mod_since_analyze > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * t.reltuples;
        if (!vacuum && !analyze) continue;
        try {
          await this.pg.query(vacuum ? `VACUUM (ANALYZE) ${t.name}` : `ANALYZE ${t.name}`);
          (vacuum ? done.vacuumed : done.analyzed).push(t.name);
        } catch {
          // Dropped or locked meanwhile: the next pass sees it again.
        }
      }
      return done;
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
