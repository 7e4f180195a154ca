import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { UUID } from '../../common/ids';

/** The statuses a delivery can be re-driven from: it ended without reaching the provider. */
export const REDRIVABLE = ['failed', 'expired'] as const;

/** Which ended deliveries a listing or a re-drive covers. `from`/`to`: when they ended (updated_at). */
export const deadFilterShape = {
  status: z.enum(REDRIVABLE).optional(),
  plugin: z.string().min(1).max(100).optional(),
  channel: z.string().min(1).max(50).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** The previous page's nextCursor (a delivery id; pages go oldest first). */
  cursor: z.string().regex(UUID, 'a cursor from a previous page').optional(),
};

export type DeadFilter = z.infer<z.ZodObject<typeof deadFilterShape>> & { ids?: string[] };

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

/**
 * One page of an app's failed or expired deliveries, oldest id first. Keyset on the id (UUIDv7):
 * a page costs the same however deep; the partial index `deliveries_redrivable` holds only these.
 */
export function findDead(db: DataSource, appId: string, f: DeadFilter, limit: number): Promise<DeadRow[]> {
  return db.query(
    `SELECT d.id, d.notification_id AS "notificationId", u.external_id AS "userId", d.user_id AS "userKey",
            d.contact_id AS "contactId",
            d.channel, d.plugin, d.status, d.reason, d.attempts, d.error_code AS "errorCode",
            d.error_message AS "errorMessage", d.links IS NOT NULL AS tracked,
            d.created_at AS "createdAt", d.updated_at AS "updatedAt"
       FROM deliveries d LEFT JOIN users u ON u.id = d.user_id
      WHERE d.app_id = $1 AND d.status IN ('failed', 'expired')
        AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.plugin = $3)
        AND ($4::text IS NULL OR d.channel = $4)
        AND ($5::timestamptz IS NULL OR d.updated_at >= $5) AND ($6::timestamptz IS NULL OR d.updated_at < $6)
        AND ($7::uuid IS NULL OR d.id > $7) AND ($8::uuid[] IS NULL OR d.id = ANY($8))
      ORDER BY d.id LIMIT $9`,
    [
      appId,
      f.status ?? null,
      f.plugin ?? null,
      f.channel ?? null,
      f.from ?? null,
      f.to ?? null,
      f.cursor ?? null,
      f.ids ?? null,
      limit,
    ],
  );
}
