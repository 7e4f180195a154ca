import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { newId } from '../common/ids';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import type { Queryable } from '../database/prepared';
import { rows } from '../database/rows';
import {
  claimEventIds,
  findEventIds,
  insertNotifications,
  type NotificationRow,
  serializeNotification,
} from '../deliveries/delivery-store';

/** One joining notification, as the join writes it. */
export interface JoinRecord {
  notification: NotificationRow;
  bodyHash: string;
  userId: string;
  key: string;
  windowMs: number;
  /** The request the digest's message is made from, if this join opens the digest. */
  messageRequest: unknown;
  data: Record<string, unknown>;
  clientSent: boolean;
}

export type JoinOutcome =
  | { outcome: 'joined'; digestId: string; closesAt: Date }
  | { outcome: 'duplicate'; notificationId: string; bodyHash: string };

/** A digest a worker has claimed for closing. */
export interface ClaimedDigest {
  id: string;
  appId: string;
  userId: string;
  request: Record<string, unknown>;
  clientSent: boolean;
  attempts: number;
}

/** What the message of a digest is made from: the count, and the oldest items (and the newest). */
export interface DigestItems {
  count: number;
  /** Oldest first, at most the limit asked for. */
  oldest: Record<string, unknown>[];
  /** The newest item (the same as the last of `oldest` when all fit). */
  newest: Record<string, unknown> | undefined;
}

/**
 * The digest tables. Joining and closing meet on the one `open` row of (app, user, key): a join
 * locks it (ON CONFLICT DO UPDATE) until it commits, and closing claims rows with SKIP LOCKED, so
 * a digest is closed only when no join is half done, and a join after the close opens a new one.
 */
@Injectable()
export class DigestRepository {
  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {}

  /**
   * One transaction: claim the eventId (a repeat joins nothing), close this key's open digest if
   * its window has passed (a late join must not slip into a digest about to be sent), join or
   * open the digest, and store the joining notification and its item.
   */
  join(record: JoinRecord): Promise<JoinOutcome> {
    const n = record.notification;
    return this.db.transaction(async (tx) => {
      if (n.eventId !== null) {
        const claim = { appId: n.appId, eventId: n.eventId, notificationId: n.id, bodyHash: record.bodyHash };
        const won = await claimEventIds(tx, [claim], this.env.CLARION_DEDUP_WINDOW_HOURS);
        if (!won.has(n.id)) {
          const [first] = await findEventIds(tx, [claim]);
          return {
            outcome: 'duplicate' as const,
            notificationId: first?.notificationId ?? '',
            bodyHash: first?.bodyHash ?? '',
          };
        }
      }
      await tx.query(
        `UPDATE digests SET status = 'closing', claimed_at = NULL
          WHERE app_id = $1 AND user_id = $2 AND key = $3 AND status = 'open' AND closes_at <= now()`,
        [n.appId, record.userId, record.key],
      );
      const [digest] = await rows<{ id: string; closes_at: Date }>(
        tx,
        `INSERT INTO digests (id, app_id, user_id, key, status, request, client_sent, closes_at)
         VALUES ($1, $2, $3, $4, 'open', $5::jsonb, $6, now() + $7::float8 * interval '1 millisecond')
         ON CONFLICT (app_id, user_id, key) WHERE status = 'open'
           DO UPDATE SET item_count = digests.item_count + 1
         RETURNING id, closes_at`,
        [
          newId(),
          n.appId,
          record.userId,
          record.key,
          JSON.stringify(record.messageRequest),
          record.clientSent,
          record.windowMs,
        ],
      );
      await insertNotifications(tx, [serializeNotification(n)], []);
      await tx.query(
        'INSERT INTO digest_items (digest_id, notification_id, data) VALUES ($1, $2, $3::jsonb)',
        [digest!.id, n.id, JSON.stringify(record.data)],
      );
      return { outcome: 'joined' as const, digestId: digest!.id, closesAt: digest!.closes_at };
    });
  }

  /**
   * Claims up to `limit` digests to close: open ones whose window has passed, and closing ones
   * nobody holds (a late join closed it) or whose claim is older than `leaseMs` (the worker that
   * claimed it died). SKIP LOCKED: a digest a join is writing to, or another worker is claiming,
   * waits for the next pass.
   */
  claimDue(leaseMs: number, limit: number): Promise<ClaimedDigest[]> {
    return rows<ClaimedDigest>(
      this.db,
      `UPDATE digests d SET status = 'closing', claimed_at = clock_timestamp(), attempts = d.attempts + 1
         FROM (SELECT id FROM digests
                WHERE (status = 'open' AND closes_at <= now())
                   OR (status = 'closing' AND (claimed_at IS NULL
                        OR claimed_at < now() - $1::float8 * interval '1 millisecond'))
                ORDER BY closes_at LIMIT $2 FOR UPDATE SKIP LOCKED) due
        WHERE d.id = due.id
        RETURNING d.id, d.app_id AS "appId", d.user_id AS "userId", d.request,
                  d.client_sent AS "clientSent", d.attempts`,
      [leaseMs, limit],
    );
  }

  /** The count, the oldest `limit` items' data and the newest one's: what the message renders. */
  async items(digestId: string, limit: number): Promise<DigestItems> {
    const oldest = await rows<{ data: Record<string, unknown>; count: string }>(
      this.db,
      `SELECT data, count(*) OVER () AS count FROM digest_items WHERE digest_id = $1
        ORDER BY created_at, notification_id LIMIT $2`,
      [digestId, limit],
    );
    const count = Number(oldest[0]?.count ?? 0);
    const newest =
      count <= limit
        ? oldest.at(-1)
        : (
            await rows<{ data: Record<string, unknown> }>(
              this.db,
              `SELECT data FROM digest_items WHERE digest_id = $1
                ORDER BY created_at DESC, notification_id DESC LIMIT 1`,
              [digestId],
            )
          )[0];
    return { count, oldest: oldest.map((r) => r.data), newest: newest?.data };
  }

  /** Sent as this notification; its items are no longer needed. Only from `closing` (a second closer is a no-op). */
  markSent(digestId: string, notificationId: string): Promise<void> {
    return this.finish(this.db, digestId, 'sent', notificationId, null);
  }

  /** Its message was refused (a template that no longer renders, an app gone): never retried. */
  markFailed(digestId: string, error: string): Promise<void> {
    return this.finish(this.db, digestId, 'failed', null, error);
  }

  private async finish(
    q: Queryable,
    digestId: string,
    status: 'sent' | 'failed',
    notificationId: string | null,
    error: string | null,
  ): Promise<void> {
    await q.query(
      `WITH done AS (
         UPDATE digests SET status = $2, notification_id = $3, error = $4, finished_at = now()
          WHERE id = $1 AND status = 'closing' RETURNING id)
       DELETE FROM digest_items WHERE digest_id IN (SELECT id FROM done)`,
      [digestId, status, notificationId, error],
    );
  }
}
