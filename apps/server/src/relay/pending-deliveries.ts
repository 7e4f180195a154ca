import type { DeliveryJob } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { delayUntil } from '../common/delay-until';
import { jobSql } from '../deliveries/store/stored-job';
import { BY_KEY, madeBeforeGraceSql } from '../deliveries/store/unsettled';
import { Enqueuer } from '../delivery/enqueuer';
import type { RelaySource } from './relay-source';

/**
 * A page of deliveries `pending` for longer than the grace period ($1, ms), oldest id first along
 * `unsettled_deliveries_pending` (no sort of a large backlog), up to the ids made within the grace
 * period (young by their UUIDv7 time), with their jobs and when they are due.
 */
export const PENDING_DELIVERIES_SQL = `
  SELECT ${jobSql('d')} AS job,
         GREATEST((SELECT n.send_at FROM notifications n WHERE n.id = d.notification_id), d.held_until) AS send_at
    FROM unsettled_deliveries u CROSS JOIN LATERAL (${BY_KEY('u.id')}) d
   WHERE u.status = 'pending' AND ${madeBeforeGraceSql('u.id', '$1')}
     AND d.status = 'pending' AND d.updated_at < now() - ($1 || ' milliseconds')::interval
     AND d.job IS NOT NULL
   ORDER BY u.id LIMIT 5000`;

/**
 * Deliveries still `pending` after the grace period: written by a fan-out chunk, an escalation
 * step, a reroute or a redrive while Redis was down, or by a process that died before it enqueued
 * them. (A request's deliveries are written `queued`: the queue reconciler covers those.) Enqueued again (job id = delivery id, so twice is once), due
 * at the later of the notification's sendAt and the delivery's own hold.
 */
@Injectable()
export class PendingDeliveries implements RelaySource {
  readonly name = 'pending deliveries';

  constructor(
    private readonly db: DataSource,
    private readonly enqueuer: Enqueuer,
  ) {}

  async run(graceMs: number): Promise<number> {
    const rows: { job: DeliveryJob; send_at: Date | null }[] = await this.db.query(PENDING_DELIVERIES_SQL, [
      String(graceMs),
    ]);
    if (rows.length === 0) return 0;
    const ok = await this.enqueuer.enqueue(rows.map((r) => ({ job: r.job, delayMs: delayUntil(r.send_at) })));
    return ok.filter(Boolean).length;
  }
}
