import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NOTIFICATION_STATUS } from '../scheduling/notification-status';
import { type EventRow, historyOf } from '../tracking/event-view';

/** Read side of `GET /v1/notifications/:id`: the notification, each delivery, its status history. */
@Injectable()
export class NotificationReader {
  constructor(private readonly db: DataSource) {}

  async get(appId: string, id: string, limit = 1000, after: string | null = null) {
    const [n] = await this.db.query(
      `SELECT id, event_id AS "eventId", ${NOTIFICATION_STATUS} AS status, category, priority, send_at AS "sendAt", expires_at AS "expiresAt",
              recipients, created_at AS "createdAt", canceled_at AS "canceledAt",
              template_key AS "templateKey", template_version AS "templateVersion"
         FROM notifications WHERE id = $1 AND app_id = $2`,
      [id, appId],
    );
    if (!n) return null;
    const { templateKey, templateVersion, ...notification } = n as {
      templateKey: string | null;
      templateVersion: number | null;
    };
    const template = templateKey === null ? null : { key: templateKey, version: templateVersion };
    const deliveries: Record<string, unknown>[] = await this.db.query(
      `SELECT d.id, u.external_id AS "userId", d.channel, d.plugin, d.status, d.reason, d.attempts,
              d.provider_message_id AS "providerMessageId", d.error_code AS "errorCode", d.error_message AS "errorMessage", d.held_until AS "heldUntil",
              d.created_at AS "createdAt", d.updated_at AS "updatedAt",
              COALESCE((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'attempt', e.attempt, 'detail', e.detail) ORDER BY e.id)
                          FROM delivery_events e WHERE e.delivery_id = d.id), '[]') AS events
         FROM deliveries d LEFT JOIN users u ON u.id = d.user_id
        WHERE d.notification_id = $1 AND ($2::uuid IS NULL OR d.id > $2::uuid)
        ORDER BY d.id LIMIT $3`,
      [id, after, limit],
    );
    const counts: { status: string; n: string }[] = await this.db.query(
      'SELECT status, count(*) AS n FROM deliveries WHERE notification_id = $1 GROUP BY status',
      [id],
    );
    return {
      ...notification,
      template,
      summary: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])),
      deliveries: deliveries.map((d) => ({
        ...d,
        events: historyOf(d.status as string, d.createdAt as string, d.events as EventRow[]),
      })),
      nextCursor: deliveries.length === limit ? deliveries.at(-1)?.id : null,
    };
  }
}
