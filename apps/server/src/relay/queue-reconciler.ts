import type { DeliveryJob, RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { delayUntil } from '../common/delay-until';
import { preparedQuery } from '../database/prepared';
import { jobSql } from '../deliveries/store/stored-job';
import { BY_KEY, madeBeforeGraceSql } from '../deliveries/store/unsettled';
import { Enqueuer } from '../delivery/enqueuer';
import { QueueRegistry } from '../delivery/queue-registry';
import { PRODUCER_REDIS } from '../redis/redis.module';
import type { RelaySource } from './relay-source';

const PAGE = 5000;
/**
 * At most this many `queued` deliveries are checked per pass; the next pass goes on where this
 * one stopped. A backlog of a million is then covered in 20 passes (five minutes at the default
 * sweep interval, less than such a backlog takes to drain) without one long scan per pass.
 */
const ROWS_PER_PASS = 50_000;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** A queued delivery to check: its plugin's queue, and the batch job that carried it, if one did. */
interface QueuedRow {
  id: string;
  plugin: string;
  batch: string | null;
}

/**
 * A page of `queued` deliveries, by id, that have been queued for longer than the grace period:
 * walked in `unsettled_deliveries` (deliveries/store/unsettled.ts), each checked in its own row.
 * The walk stops at ids made within the grace period (UUIDv7: an id holds its creation time):
 * those are young by definition, and in a campaign they are most of the table, growing at its end
 * as fast as the fan-out writes; a walk that went on into them never reached its end.
 */
export const QUEUED_PAGE_SQL = `
  SELECT d.id::text, COALESCE(d.plugin, d.job->>'plugin') AS plugin, d.job->>'batch' AS batch
    FROM unsettled_deliveries u CROSS JOIN LATERAL (${BY_KEY('u.id')}) d
   WHERE u.status = 'queued' AND u.id > $1::uuid AND ${madeBeforeGraceSql('u.id', '$2')}
     AND d.status = 'queued' AND d.job IS NOT NULL
     AND d.updated_at < now() - ($2 || ' milliseconds')::interval
   ORDER BY u.id LIMIT ${PAGE}`;

/**
 * For each of n deliveries (ARGV[i] its id, ARGV[n + i] the batch job that carried it or '';
 * ARGV[2n + 1] the cutoff, in ms; KEYS: the failed and completed sets, then the n job keys, then
 * the n batch job keys): whether Redis holds a job for it. Missing: neither its own job nor a batch
 * job still to run (waiting, delayed or active: not finished). Finished: its own job is held as
 * failed or completed since before the cutoff (the sets' scores are the times jobs finished). A job
 * that finished after the cutoff still counts as held: its outcome may be on its way to PostgreSQL
 * (a job BullMQ fails for stalling too often is reported by the worker's `failed` event, batched),
 * and running it again then would undo a poison job's limit. Returns {missing ids, finished ids}.
 */
export const CHECK_JOBS = `
local missing, finished = {}, {}
local cutoff = tonumber(ARGV[#ARGV])
local n = (#ARGV - 1) / 2
local function endedBefore(set, id)
  local at = redis.call('ZSCORE', set, id)
  return at ~= false and at ~= nil and tonumber(at) <= cutoff
end
local function ended(id)
  return endedBefore(KEYS[1], id) or endedBefore(KEYS[2], id)
end
for i = 1, n do
  local id, batch = ARGV[i], ARGV[n + i]
  if redis.call('EXISTS', KEYS[i + 2]) == 1 then
    if ended(id) then finished[#finished + 1] = id end
  elseif batch == '' or redis.call('EXISTS', KEYS[n + i + 2]) == 0 or ended(batch) then
    missing[#missing + 1] = id
  end
end
return {missing, finished}`;

/**
 * PostgreSQL holds the truth, Redis only the queues. Redis can lose jobs without looking empty: a
 * failover to a replica that lagged, a crash with AOF `everysec`, a restore of an older snapshot
 * all bring back a copy that holds what it held then, not what was added since. So no marker in
 * Redis can say whether it is intact; each pass instead asks PostgreSQL which deliveries are
 * `queued` (for longer than `graceMs`: the request path writes its deliveries `queued` and adds
 * their jobs right after the commit, other paths add the job before marking the row, so a young
 * one is simply in flight) and checks, in one script per page, that Redis
 * holds its job. Missing ones are re-added (job id = delivery id, so one re-added twice is still
 * one job); the send gate's database check keeps a re-added delivery that was in fact sent from
 * being sent again. A job Redis holds as finished (failed or completed) while its delivery is
 * still `queued` ended without its outcome being written (the database was away when its last
 * attempt reported): nothing would ever run it again, so it is removed and re-added too, and the
 * new run records an outcome.
 */
@Injectable()
export class QueueReconciler implements RelaySource {
  readonly name = 'queued deliveries lost from Redis';
  private readonly log = new Logger('reconciler');
  /** Where the next pass starts (ids are UUIDv7: new deliveries sort last). */
  private cursor = FIRST_ID;

  constructor(
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
    private readonly queues: QueueRegistry,
  ) {}

  run(graceMs: number): Promise<number> {
    return this.reconcile(graceMs);
  }

  /**
   * Checks up to ROWS_PER_PASS queued deliveries older than `graceMs`, re-adding those whose job
   * Redis does not hold; returns how many it re-added. Throws if PostgreSQL or Redis is away.
   */
  async reconcile(graceMs: number): Promise<number> {
    let readded = 0;
    let checked = 0;
    while (checked < ROWS_PER_PASS) {
      const rows = await preparedQuery<QueuedRow>(this.db, QUEUED_PAGE_SQL, [this.cursor, String(graceMs)]);
      checked += rows.length;
      if (rows.length > 0) readded += await this.readdMissing(rows, Date.now() - graceMs);
      if (rows.length < PAGE) {
        this.cursor = FIRST_ID; // reached the end: the next pass starts over
        break;
      }
      this.cursor = rows.at(-1)!.id;
    }
    if (readded > 0)
      this.log.warn(
        `re-added the jobs of ${readded} queued deliveries from PostgreSQL (Redis had lost them, or they ended without an outcome)`,
      );
    return readded;
  }

  /** Re-adds the rows' jobs Redis lost, and those of jobs that finished before `cutoffMs` without an outcome. */
  private async readdMissing(rows: QueuedRow[], cutoffMs: number): Promise<number> {
    const missing: string[] = [];
    const finished: { id: string; plugin: string }[] = [];
    // One script per plugin queue: on a Redis Cluster a script's keys must stay in one slot.
    const byPlugin = new Map<string, QueuedRow[]>();
    for (const r of rows) {
      // Pushed, not spread into a new array per row: that copied a 5,000-row page quadratically
      // (tens of MB of garbage per page, the worker's largest source of old-generation growth in a campaign).
      const page = byPlugin.get(r.plugin);
      if (page) page.push(r);
      else byPlugin.set(r.plugin, [r]);
    }
    for (const [plugin, page] of byPlugin) {
      const queue = this.queues.forPlugin(plugin);
      // One script per page, not three commands per row: during a campaign every row of the backlog
      // is checked every pass, and building and parsing 15,000 replies a page cost the worker a seventh
      // to a quarter of its CPU per delivery at 100,000 subscribers. Only the ids that need work come back.
      const [gone, ended] = (await this.redis.eval(
        CHECK_JOBS,
        2 * page.length + 2,
        queue.toKey('failed'),
        queue.toKey('completed'),
        ...page.map((r) => queue.toKey(r.id)),
        ...page.map((r) => queue.toKey(r.batch ?? r.id)),
        ...page.map((r) => r.id),
        ...page.map((r) => r.batch ?? ''),
        String(cutoffMs),
      )) as [string[], string[]];
      missing.push(...gone);
      const endedIds = new Set(ended);
      for (const r of page) if (endedIds.has(r.id)) finished.push(r);
    }
    if (missing.length === 0 && finished.length === 0) return 0;
    if (finished.length > 0) missing.push(...(await this.removeFinished(finished)));
    // Read again: a job that finished between the page and the check has its outcome recorded by now.
    const lost: { job: DeliveryJob; send_at: Date | null }[] = await this.db.query(
      `SELECT ${jobSql('d')} AS job, GREATEST(n.send_at, d.held_until) AS send_at
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
        WHERE d.id = ANY($1::uuid[]) AND d.status = 'queued' AND d.job IS NOT NULL`,
      [missing],
    );
    if (lost.length === 0) return 0;
    // Due at the later of the notification's sendAt and the delivery's own hold (quiet hours, a deferring cap).
    const ok = await this.enqueuer.enqueue(
      lost.map((r) => ({ job: r.job, delayMs: delayUntil(r.send_at), writtenQueued: true })),
    );
    if (ok.some((queued) => !queued)) throw new Error('Redis refused the re-enqueue; will try again');
    return lost.length;
  }

  /**
   * Removes the finished jobs of deliveries still `queued` in PostgreSQL (read again: an outcome
   * written since is kept); returns their ids, to be re-added like lost ones.
   */
  private async removeFinished(finished: { id: string; plugin: string }[]): Promise<string[]> {
    const still: { id: string }[] = await this.db.query(
      `SELECT id::text FROM deliveries WHERE id = ANY($1::uuid[]) AND status = 'queued' AND job IS NOT NULL`,
      [finished.map((f) => f.id)],
    );
    const ids = new Set(still.map((r) => r.id));
    const removed: string[] = [];
    for (const f of finished) {
      if (!ids.has(f.id)) continue;
      // 0: the job is locked (run again meanwhile); it will record its own outcome.
      if ((await this.queues.forPlugin(f.plugin).remove(f.id)) === 1) removed.push(f.id);
    }
    if (removed.length > 0)
      this.log.warn(
        `${removed.length} queued deliveries had jobs that ended without a recorded outcome: running them again`,
      );
    return removed;
  }
}
