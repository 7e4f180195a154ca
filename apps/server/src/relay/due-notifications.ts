import type { DeliveryJob } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { delayUntil } from '../common/delay-until';
import { rows } from '../database/rows';
import { jobSql } from '../deliveries/store/stored-job';
import { Enqueuer } from '../delivery/enqueuer';
import type { RelaySource } from './relay-source';

const BATCH = 500;

/**
 * Scheduled notifications whose sendAt has passed move on (`scheduled` → `accepted`), and the jobs
 * of their still-unsent deliveries are added again. The delayed BullMQ job normally sends on time
 * and the re-add is a no-op (job id = delivery id); if Redis lost its data (restart without
 * persistence, failover) the delayed jobs are gone and this brings them back within one interval.
 * Already-sent deliveries are protected by the sent ledger. SKIP LOCKED: with several workers
 * each due notification is taken by one. Returns how many notifications became due.
 */
/** Claims up to BATCH scheduled notifications whose sendAt has come (index `notifications_in_progress`). */
export const DUE_NOTIFICATIONS_SQL = `UPDATE notifications n SET status = 'accepted'
           FROM (SELECT id FROM notifications WHERE status = 'scheduled' AND send_at <= now()
                  ORDER BY send_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED) due
          WHERE n.id = due.id RETURNING n.id`;

@Injectable()
export class DueNotifications implements RelaySource {
  readonly name = 'due scheduled notifications';

  constructor(
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
  ) {}

  async run(): Promise<number> {
    let total = 0;
    for (;;) {
      const due = await rows<{ id: string }>(this.db, DUE_NOTIFICATIONS_SQL);
      if (due.length === 0) break;
      total += due.length;
      // A delivery held past sendAt (quiet hours, a deferring cap) keeps its hold when re-added.
      const jobs = await rows<{ job: DeliveryJob; held_until: Date | null }>(
        this.db,
        `SELECT ${jobSql('d')} AS job, d.held_until FROM deliveries d WHERE notification_id = ANY($1::uuid[]) AND status IN ('pending', 'queued') AND job IS NOT NULL`,
        [due.map((d) => d.id)],
      );
      if (jobs.length > 0)
        await this.enqueuer.enqueue(jobs.map((j) => ({ job: j.job, delayMs: delayUntil(j.held_until) })));
      if (due.length < BATCH) break;
    }
    return total;
  }
}
