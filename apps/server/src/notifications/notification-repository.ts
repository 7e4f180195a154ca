import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/prepared';
import { rows } from '../database/rows';
import { requestSql } from '../deliveries/store/stored-request';
import type { NotificationRequest } from '../templates/notification-request';
import { NOTIFICATION_STATUS } from './notification-status';

/** A notification as `GET /v1/notifications/:id` shows it (without its deliveries). */
export interface NotificationView {
  id: string;
  eventId: string | null;
  status: string;
  category: string | null;
  priority: string;
  sendAt: Date | null;
  expiresAt: Date | null;
  recipients: unknown;
  createdAt: Date;
  canceledAt: Date | null;
  template: { key: string; version: number | null } | null;
}

/** What replanning a notification needs: its request as accepted and the template version pinned then. */
export interface StoredRequest {
  request: NotificationRequest;
  templateVersion: number | null;
}

/**
 * Reads of notifications in PostgreSQL. Notifications are written with their deliveries, in one
 * statement, by the delivery store.
 */
/** Notifications accepted with a sendAt still in the future (index `notifications_in_progress`). */
export const SCHEDULED_COUNT_SQL = `SELECT count(*)::int AS n FROM notifications WHERE status IN ('scheduled', 'fanout') AND send_at > now()`;

/** Scheduled notifications overdue with work not handed on (index `notifications_in_progress`). */
export const OVERDUE_COUNT_SQL = `SELECT count(*)::int AS n FROM notifications n
        WHERE n.status IN ('scheduled', 'fanout') AND n.canceled_at IS NULL
          AND n.send_at < now() - interval '5 minutes' AND n.send_at > now() - interval '7 days'
          AND (n.status = 'fanout'
               OR EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.status IN ('pending', 'queued')))`;

@Injectable()
export class NotificationRepository {
  constructor(private readonly db: DataSource) {}

  async view(appId: string, id: string, db: Queryable = this.db): Promise<NotificationView | null> {
    const [n] = await rows<
      Omit<NotificationView, 'template'> & { templateKey: string | null; templateVersion: number | null }
    >(
      db,
      `SELECT id, event_id AS "eventId", ${NOTIFICATION_STATUS} AS status, category, priority, send_at AS "sendAt", expires_at AS "expiresAt",
              recipients, created_at AS "createdAt", canceled_at AS "canceledAt",
              template_key AS "templateKey", template_version AS "templateVersion"
         FROM notifications WHERE id = $1 AND app_id = $2`,
      [id, appId],
    );
    if (!n) return null;
    const { templateKey, templateVersion, ...notification } = n;
    return {
      ...notification,
      template: templateKey === null ? null : { key: templateKey, version: templateVersion },
    };
  }

  async request(appId: string, id: string): Promise<StoredRequest | null> {
    const [n] = await rows<{ request: NotificationRequest; template_version: number | null }>(
      this.db,
      `SELECT ${requestSql('n')} AS request, template_version FROM notifications n WHERE id = $1 AND app_id = $2`,
      [id, appId],
    );
    return n ? { request: n.request, templateVersion: n.template_version } : null;
  }

  /** Notifications accepted with a sendAt still in the future. */
  async scheduledCount(): Promise<number> {
    const [row] = await rows<{ n: number }>(this.db, SCHEDULED_COUNT_SQL);
    return row?.n ?? 0;
  }

  /**
   * Scheduled notifications more than 5 minutes past their sendAt with deliveries not yet handed to
   * a provider. Bounded to the last week of schedules (partial index on send_at for scheduled rows).
   */
  async overdueCount(): Promise<number> {
    const [row] = await rows<{ n: number }>(this.db, OVERDUE_COUNT_SQL);
    return row?.n ?? 0;
  }
}
