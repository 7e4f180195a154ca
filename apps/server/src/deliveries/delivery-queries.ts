import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/prepared';
import { rows } from '../database/rows';
import type { EventRow } from './event-view';
import { BY_KEY, redrivableSql } from './store/unsettled';

/** The `sent` step's attempt and detail from the row: what record-outcomes.ts left out is the row's own. */
const SENT_ATTEMPT = `COALESCE((d.sent_event->>'attempt')::int, d.attempts)`;
const SENT_DETAIL = `(CASE WHEN jsonb_typeof(d.sent_event->'detail') <> 'object' OR d.plugin IS NULL THEN d.sent_event->'detail'
                           ELSE jsonb_build_object('plugin', d.plugin) || (d.sent_event->'detail') END)`;

/**
 * A delivery's history: its stored rows in the order they were written, and the steps its row
 * holds instead of a history row (WAL per delivery, docs/benchmarks.md): `queued` at `queued_at`
 * (written `queued` by the request path: store/insert-deliveries.ts) and `sent` at `sent_at` with
 * `sent_event`'s attempt and detail (store/record-outcomes.ts). Each of these goes after the rows
 * written up to its time (a `held` of the same statement, a `retrying` of the same batch) and
 * before every later one: a stored row's place is twice the number of these steps before it, a
 * step's own place that number doubled plus one (`queued` always comes before `sent`).
 */
export const EVENTS = `COALESCE((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'attempt', e.attempt, 'detail', e.detail)
                                   ORDER BY e.place, e.id)
                          FROM (SELECT e.status, e.at, e.attempt, e.detail, e.id,
                                       2 * ((d.queued_at IS NOT NULL AND e.at > d.queued_at)::int
                                            + (d.sent_event IS NOT NULL AND e.at > d.sent_at)::int) AS place
                                  FROM delivery_events e WHERE e.delivery_id = d.id
                                UNION ALL
                                SELECT 'queued', d.queued_at, NULL, NULL, 0, 1 WHERE d.queued_at IS NOT NULL
                                UNION ALL
                                SELECT 'sent', d.sent_at, ${SENT_ATTEMPT}, ${SENT_DETAIL}, 0,
                                       2 * (d.queued_at IS NOT NULL)::int + 1
                                 WHERE d.sent_event IS NOT NULL) e), '[]') AS events`;

/** A delivery of a notification with its stored history (`GET /v1/notifications/:id`). */
export interface NotificationDelivery {
  id: string;
  /** The app's id of the user (null: erased since). */
  userId: string | null;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  attempts: number;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  heldUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
  events: EventRow[];
}

/** One of a user's deliveries with its stored history (`GET /v1/users/:id/deliveries`). */
export interface UserDelivery {
  id: string;
  notificationId: string;
  category: string | null;
  template: string | null;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  attempts: number;
  providerMessageId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  events: EventRow[];
}

export interface UserDeliveryFilter {
  /** Older than this delivery id (the previous page's last). */
  before: string | null;
  channel: string | null;
  status: string | null;
  limit: number;
}

/** Which ended deliveries a listing or a re-drive covers. `from`/`to`: when they ended (updated_at). */
export interface DeadFilter {
  status?: 'failed' | 'expired' | undefined;
  plugin?: string | undefined;
  channel?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  /** The previous page's last delivery id (pages go oldest first). */
  cursor?: string | undefined;
  ids?: string[] | undefined;
}

export interface DeadRow {
  id: string;
  notificationId: string;
  /** The app's id of the user (null: erased since). */
  userId: string | null;
  /** Internal: the users row. */
  userKey: string | null;
  contactId: string | null;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
  attempts: number;
  errorCode: string | null;
  errorMessage: string | null;
  tracked: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Read-only delivery queries the API answers from; every write goes through the delivery store. */
/**
 * One page of an app's failed or expired deliveries ($1 app; $2–$6 status, plugin, channel, time
 * filters; $7 cursor; $8 ids; $9 limit), oldest id first along `unsettled_deliveries_redrivable`.
 */
export const DEAD_DELIVERIES_SQL = `
      SELECT d.id, d.notification_id AS "notificationId",
              (SELECT u.external_id FROM users u WHERE u.id = d.user_id) AS "userId", d.user_id AS "userKey",
              d.contact_id AS "contactId",
              d.channel, d.plugin, d.status, d.reason, d.attempts, d.error_code AS "errorCode",
              d.error_message AS "errorMessage", d.links IS NOT NULL AS tracked,
              d.created_at AS "createdAt", d.updated_at AS "updatedAt"
         FROM unsettled_deliveries x CROSS JOIN LATERAL (${BY_KEY('x.id')}) d
        WHERE x.app_id = $1 AND ${redrivableSql('x.status')} AND ${redrivableSql('d.status')}
          AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.plugin = $3)
          AND ($4::text IS NULL OR d.channel = $4)
          AND ($5::timestamptz IS NULL OR d.updated_at >= $5) AND ($6::timestamptz IS NULL OR d.updated_at < $6)
          AND ($7::uuid IS NULL OR x.id > $7) AND ($8::uuid[] IS NULL OR x.id = ANY($8))
        ORDER BY x.id LIMIT $9`;

@Injectable()
export class DeliveryQueries {
  constructor(private readonly db: DataSource) {}

  /** A page of a notification's deliveries, by id. */
  async ofNotification(
    notificationId: string,
    after: string | null,
    limit: number,
    db: Queryable = this.db,
  ): Promise<NotificationDelivery[]> {
    return rows<NotificationDelivery>(
      db,
      `SELECT d.id, u.external_id AS "userId", d.channel, d.plugin, d.status, d.reason, d.attempts,
              d.provider_message_id AS "providerMessageId", d.error_code AS "errorCode", d.error_message AS "errorMessage", d.held_until AS "heldUntil",
              d.created_at AS "createdAt", d.updated_at AS "updatedAt",
              ${EVENTS}
         FROM deliveries d LEFT JOIN users u ON u.id = d.user_id
        WHERE d.notification_id = $1 AND ($2::uuid IS NULL OR d.id > $2::uuid)
        ORDER BY d.id LIMIT $3`,
      [notificationId, after, limit],
    );
  }

  /** How many of a notification's deliveries are in each status. */
  async statusCounts(notificationId: string, db: Queryable = this.db): Promise<Record<string, number>> {
    const counts = await rows<{ status: string; n: string }>(
      db,
      'SELECT status, count(*) AS n FROM deliveries WHERE notification_id = $1 GROUP BY status',
      [notificationId],
    );
    return Object.fromEntries(counts.map((c) => [c.status, Number(c.n)]));
  }

  /**
   * A page of a user's (internal id) deliveries, newest first. Keyset on the id (UUIDv7, so
   * time-ordered): a page costs the same however deep.
   */
  async ofUser(userId: string, f: UserDeliveryFilter): Promise<UserDelivery[]> {
    return rows<UserDelivery>(
      this.db,
      `SELECT d.id, d.notification_id AS "notificationId", n.category, n.request->>'template' AS template, d.channel, d.plugin,
              d.status, d.reason, d.attempts, d.provider_message_id AS "providerMessageId", d.error_code AS "errorCode",
              d.error_message AS "errorMessage", d.created_at AS "createdAt", d.updated_at AS "updatedAt",
              ${EVENTS}
         FROM deliveries d LEFT JOIN notifications n ON n.id = d.notification_id
        WHERE d.user_id = $1 AND ($2::uuid IS NULL OR d.id < $2::uuid)
          AND ($3::text IS NULL OR d.channel = $3) AND ($4::text IS NULL OR d.status = $4)
        ORDER BY d.id DESC LIMIT $5`,
      [userId, f.before, f.channel, f.status, f.limit],
    );
  }

  /**
   * One page of an app's failed or expired deliveries, oldest id first. Keyset on the id (UUIDv7):
   * a page costs the same however deep; the partial index `unsettled_deliveries_redrivable` holds only these.
   */
  async dead(appId: string, f: DeadFilter, limit: number): Promise<DeadRow[]> {
    return rows<DeadRow>(this.db, DEAD_DELIVERIES_SQL, [
      appId,
      f.status ?? null,
      f.plugin ?? null,
      f.channel ?? null,
      f.from ?? null,
      f.to ?? null,
      f.cursor ?? null,
      f.ids ?? null,
      limit,
    ]);
  }

  /**
   * Status of the given deliveries of an app; with `externalUserId`, only that user's (a client key
   * reports only for its signed-in user). Unknown or foreign ids are absent.
   */
  async statusesOf(
    appId: string,
    deliveryIds: string[],
    externalUserId: string | null,
  ): Promise<{ id: string; status: string }[]> {
    return rows<{ id: string; status: string }>(
      this.db,
      `SELECT d.id, d.status FROM deliveries d LEFT JOIN users u ON u.id = d.user_id
        WHERE d.id = ANY($1::uuid[]) AND d.app_id = $2 AND ($3::text IS NULL OR u.external_id = $3)`,
      [deliveryIds, appId, externalUserId],
    );
  }

  /** The tracked link at `index` of a delivery, as stored (null: no such delivery or link). */
  async trackedLink(deliveryId: string, index: number): Promise<string | null> {
    const [row] = await rows<{ url: string | null }>(
      this.db,
      'SELECT links->>$2::int AS url FROM deliveries WHERE id = $1',
      [deliveryId, index],
    );
    return row?.url ?? null;
  }

  /** The app a delivery belongs to, or null. */
  async appOf(deliveryId: string): Promise<string | null> {
    const [row] = await rows<{ app_id: string }>(this.db, 'SELECT app_id FROM deliveries WHERE id = $1', [
      deliveryId,
    ]);
    return row?.app_id ?? null;
  }
}
