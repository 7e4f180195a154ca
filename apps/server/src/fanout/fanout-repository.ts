import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { insertDeliveries } from '../deliveries/delivery-store';
import { requestSql } from '../deliveries/store/stored-request';
import type { NotificationRequest } from '../templates/notification-request';

export interface FanoutNotification {
  request: NotificationRequest;
  status: string;
  created_at: Date;
  template_version: number | null;
}

/** What fan-out reads and writes in PostgreSQL: the notification, which users have rows, each chunk. */
/**
 * Which of a chunk's users ($1) already have a delivery of the notification ($2), among the
 * deliveries made in its own days (from its id's time less an hour to now plus an hour, for clock
 * skew: migration 1765200000015's functions, as the steps' engagement lookup bounds them): each
 * user's deliveries read through its own index entries, the notification compared after (`OFFSET 0` keeps PostgreSQL from pushing that comparison into the scan). Written
 * as one filter, the planner read every delivery of the notification for every chunk whenever the
 * day's partition had no fresh statistics (no ANALYZE yet: a new partition, or autovacuum behind):
 * 6.3 s a chunk 900,000 deliveries into the million scenario, against 36 ms this way. The upper
 * bound prunes the week of day partitions made ahead: without it each user probed every one of
 * them, 105 ms a chunk and the largest PostgreSQL cost of a 100,000-subscriber campaign
 * (`fanout/not-planned-plan.test.ts`).
 */
export const NOT_PLANNED_SQL = `
  SELECT DISTINCT u.user_id FROM unnest($1::uuid[]) AS u(user_id)
  CROSS JOIN LATERAL (SELECT d.notification_id FROM deliveries d
                       WHERE d.user_id = u.user_id
                         AND d.id >= clarion_notification_delivery_floor($2::uuid)
                         AND d.id < clarion_uuidv7_floor_at(now() + interval '1 hour') OFFSET 0) d
  WHERE d.notification_id = $2`;

@Injectable()
export class FanoutRepository {
  constructor(private readonly db: DataSource) {}

  async notification(notificationId: string, appId: string): Promise<FanoutNotification | undefined> {
    const [row]: FanoutNotification[] = await this.db.query(
      `SELECT ${requestSql('n')} AS request, status, created_at, template_version FROM notifications n WHERE id = $1 AND app_id = $2`,
      [notificationId, appId],
    );
    return row;
  }

  /** Still `fanout`: not canceled, not finished by another run. */
  async stillFanningOut(notificationId: string): Promise<boolean> {
    const [now]: { status: string }[] = await this.db.query(
      'SELECT status FROM notifications WHERE id = $1',
      [notificationId],
    );
    return now?.status === 'fanout';
  }

  /**
   * The chunk's users without a delivery of this notification yet. A chunk is read again after a
   * crash between its write and its saved cursor (a deploy that outlasts the grace period), and a
   * list may name a user twice: planning such a user again took their caps a second time and
   * repeated their suppressed rows (a row without a contact has no unique index to stop it). Read
   * by user and id range (deliveries_user_id_desc), so the cost does not grow with the campaign.
   */
  async notPlannedYet(notificationId: string, chunk: Recipient[]): Promise<Recipient[]> {
    const planned: { user_id: string }[] = await this.db.query(NOT_PLANNED_SQL, [
      chunk.map((r) => r.userId),
      notificationId,
    ]);
    if (planned.length === 0) return chunk;
    const skip = new Set(planned.map((p) => p.user_id));
    return chunk.filter((r) => !skip.has(r.userId));
  }

  /**
   * The chunk's rows and its recipient count in one transaction: a chunk read again counts its
   * users once. Returns the ids of the rows inserted (those with a job written `queued`).
   */
  writeChunk(
    notificationId: string,
    appId: string,
    plans: DeliveryPlan[],
    recipients: number,
  ): Promise<Set<string>> {
    return this.db.transaction(async (tx) => {
      // Written `queued`: the chunk's jobs are added right after the commit (a campaign's
      // deliveries are not updated once more each to mark them queued).
      const ids = await insertDeliveries(
        tx,
        plans.map((plan) => ({ plan, notificationId, appId })),
        { queuedNow: true },
      );
      await tx.query('UPDATE notifications SET recipients = recipients + $2 WHERE id = $1', [
        notificationId,
        recipients,
      ]);
      return ids;
    });
  }

  async finish(notificationId: string): Promise<void> {
    await this.db.query(`UPDATE notifications SET status = 'accepted' WHERE id = $1 AND status = 'fanout'`, [
      notificationId,
    ]);
  }
}
