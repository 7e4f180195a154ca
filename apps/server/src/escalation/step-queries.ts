import type { Queryable } from '../database/prepared';
import { rows } from '../database/rows';
import { requestSql } from '../deliveries/store/stored-request';
import type { NotificationRequest } from '../templates/notification-request';

/** What planning a later step needs of its notification: the request and template version accepted. */
export interface StepNotification {
  id: string;
  appId: string;
  request: NotificationRequest;
  acceptedAt: Date;
  templateVersion: number | null;
}

/** The stored requests of these notifications (a read, one statement). */
export function stepNotifications(q: Queryable, ids: string[]): Promise<StepNotification[]> {
  return rows<StepNotification>(
    q,
    `SELECT id, app_id AS "appId", ${requestSql('n')} AS request, created_at AS "acceptedAt", template_version AS "templateVersion"
       FROM notifications n WHERE id = ANY($1::uuid[])`,
    [ids],
  );
}
