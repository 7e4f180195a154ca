import type { DeliveryJob } from '@clarion/plugin-sdk';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../database/prepared';
import { PRODUCER_REDIS } from '../redis/redis.module';
import { delayUntil, Enqueuer } from './enqueuer';
import { QueueRegistry } from './queue-registry';

const PAGE = 5000;
/**
 * At most this many `queued` deliveries are checked per pass; the next pass goes on where this
 * one stopped. A backlog of a million is then covered in 20 passes (five minutes at the default
 * sweep interval, less than such a backlog takes to drain) without one long scan per pass.
 */
const ROWS_PER_PASS = 50_000;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** A page of `queued` deliveries, by id, that have been queued for longer than the grace period. */
const QUEUED_PAGE_SQL = `
  SELECT id::text, COALESCE(plugin, job->>'plugin') AS plugin FROM deliveries
   WHERE status = 'queued' AND id > $1::uuid AND job IS NOT NULL
     AND updated_at < now() - ($2 || ' milliseconds')::interval
   ORDER BY id LIMIT ${PAGE}`;

/**
 * PostgreSQL holds the truth, Redis only the queues. Redis can lose jobs without looking empty: a
 * failover to a replica that lagged, a crash with AOF `everysec`, a restore of an older snapshot
 * all bring back a copy that holds what it held then, not what was added since. So no marker in
 * Redis can say whether it is intact; each pass instead asks PostgreSQL which deliveries are
 * `queued` (for longer than `graceMs`: a job is added before its delivery is marked queued, so
 * a young one is simply in flight) and checks, one pipelined EXISTS per delivery, that Redis
 * holds its job. Missing ones are re-added (job id = delivery id, so one re-added twice is still
 * one job); the send gate's database check keeps a re-added delivery that was in fact sent from
 * being sent again.
 */
@Injectable()
export class QueueReconciler {
  private readonly log = new Logger('reconciler');
  /** Where the next pass starts (ids are UUIDv7: new deliveries sort last). */
  private cursor = FIRST_ID;

  constructor(
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
    private readonly queues: QueueRegistry,
  ) {}

  /**
   * Checks up to ROWS_PER_PASS queued deliveries older than `graceMs`, re-adding those whose job
   * Redis does not hold; returns how many it re-added. Throws if PostgreSQL or Redis is away.
   */
  async reconcile(graceMs: number): Promise<number> {
    let readded = 0;
    let checked = 0;
    while (checked < ROWS_PER_PASS) {
      const rows = await preparedQuery<{ id: string; plugin: string }>(this.db, QUEUED_PAGE_SQL, [
        this.cursor,
        String(graceMs),
      ]);
      checked += rows.length;
      if (rows.length > 0) readded += await this.readdMissing(rows);
      if (rows.length < PAGE) {
        this.cursor = FIRST_ID; // reached the end: the next pass starts over
        break;
      }
      this.cursor = rows.at(-1)!.id;
    }
    if (readded > 0)
      this.log.warn(`Redis had lost the jobs of ${readded} queued deliveries: re-added them from PostgreSQL`);
    return readded;
  }

  private async readdMissing(rows: { id: string; plugin: string }[]): Promise<number> {
    const pipeline = this.redis.pipeline();
    for (const r of rows) pipeline.exists(this.queues.forPlugin(r.plugin).toKey(r.id));
    const answers = (await pipeline.exec()) ?? [];
    const missing: string[] = [];
    rows.forEach((r, i) => {
      const [error, exists] = answers[i] ?? [new Error('no answer')];
      if (error) throw error;
      if (exists === 0) missing.push(r.id);
    });
    if (missing.length === 0) return 0;
    // Read again: a job that finished between the page and the check has its outcome recorded by now.
    const lost: { job: DeliveryJob; send_at: Date | null }[] = await this.db.query(
      `SELECT d.job, GREATEST(n.send_at, d.held_until) AS send_at
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
        WHERE d.id = ANY($1::uuid[]) AND d.status = 'queued' AND d.job IS NOT NULL`,
      [missing],
    );
    if (lost.length === 0) return 0;
    // Due at the later of the notification's sendAt and the delivery's own hold (quiet hours, a deferring cap).
    const ok = await this.enqueuer.enqueue(lost.map((r) => ({ job: r.job, delayMs: delayUntil(r.send_at) })));
    if (ok.some((queued) => !queued)) throw new Error('Redis refused the re-enqueue; will try again');
    return lost.length;
  }
}
