import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type InboxMessageRow, type InboxMessageView, MESSAGE_COLUMNS } from './inbox-view';

/** Which messages a list shows: the inbox (not archived), unread ones, archived ones, or all. */
export type InboxView = 'inbox' | 'unread' | 'archived' | 'all';

const VIEW_FILTER: Record<InboxView, string> = {
  inbox: 'archived_at IS NULL',
  unread: 'read_at IS NULL AND archived_at IS NULL',
  archived: 'archived_at IS NOT NULL',
  all: 'TRUE',
};

/** A change of state; `read: false` marks unread, `archived: false` takes a message back out of the archive. */
export interface InboxChange {
  read?: boolean | undefined;
  archived?: boolean | undefined;
}

/** The SET clause of a change, keeping an earlier read/archive time when the state stays. */
function setClause(change: InboxChange): string {
  const parts: string[] = [];
  if (change.read !== undefined)
    parts.push(change.read ? 'read_at = COALESCE(read_at, now())' : 'read_at = NULL');
  if (change.archived !== undefined)
    parts.push(change.archived ? 'archived_at = COALESCE(archived_at, now())' : 'archived_at = NULL');
  return parts.join(', ');
}

/** The inbox messages of one user, in PostgreSQL. Users are named by the app's external id. */
@Injectable()
export class InboxRepository {
  constructor(private readonly db: DataSource) {}

  /** The internal id of a user, or null when the app has no such user. */
  async userOf(appId: string, externalId: string): Promise<string | null> {
    const rows: { id: string }[] = await this.db.query(
      'SELECT id FROM users WHERE app_id = $1 AND external_id = $2',
      [appId, externalId],
    );
    return rows[0]?.id ?? null;
  }

  /**
   * Newest first, `limit` at a time; `after` is the last id of the previous page (a keyset
   * cursor: messages arriving meanwhile neither repeat nor shift the next page). Undefined when
   * the cursor is no message of this user.
   */
  async list(
    userId: string,
    view: InboxView,
    limit: number,
    after: string | undefined,
  ): Promise<{ rows: InboxMessageRow[]; more: boolean } | undefined> {
    const params: unknown[] = [userId, limit + 1];
    let keyset = '';
    if (after) {
      const found: { id: string }[] = await this.db.query(
        'SELECT id FROM inbox_messages WHERE id = $1 AND user_id = $2',
        [after, userId],
      );
      if (found.length === 0) return undefined;
      params.push(after);
      keyset = 'AND (created_at, id) < (SELECT created_at, id FROM inbox_messages WHERE id = $3)';
    }
    const rows: InboxMessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM inbox_messages
        WHERE user_id = $1 AND ${VIEW_FILTER[view]} ${keyset}
        ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }

  async unread(userId: string): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      'SELECT count(*)::int AS n FROM inbox_messages WHERE user_id = $1 AND read_at IS NULL AND archived_at IS NULL',
      [userId],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Changes one message; answers it and whether this change is its first read (an `opened`),
   * or undefined when the user has no such message.
   */
  async change(
    userId: string,
    id: string,
    change: InboxChange,
  ): Promise<{ row: InboxMessageRow; firstRead: boolean } | undefined> {
    const rows: (InboxMessageRow & { was_unread: boolean })[] = await this.db.query(
      `WITH before AS (SELECT id, read_at IS NULL AS was_unread FROM inbox_messages WHERE id = $1 AND user_id = $2 FOR UPDATE)
       UPDATE inbox_messages m SET ${setClause(change)} FROM before
        WHERE m.id = before.id
        RETURNING ${MESSAGE_COLUMNS.split(', ')
          .map((c) => `m.${c}`)
          .join(', ')}, before.was_unread`,
      [id, userId],
    );
    // TypeORM answers an UPDATE … RETURNING as [rows, count].
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as (InboxMessageRow & { was_unread: boolean })[];
    const row = list[0];
    if (!row) return undefined;
    const { was_unread, ...message } = row;
    return { row: message, firstRead: was_unread && change.read === true };
  }

  /** Changes every message of the user that the change would move; answers the ids read for the first time. */
  async changeAll(userId: string, change: InboxChange): Promise<{ updated: number; firstRead: string[] }> {
    const moves: string[] = [];
    if (change.read === true) moves.push('read_at IS NULL');
    if (change.read === false) moves.push('read_at IS NOT NULL');
    if (change.archived === true) moves.push('archived_at IS NULL');
    if (change.archived === false) moves.push('archived_at IS NOT NULL');
    const result: [{ id: string; was_unread: boolean }[], number] = await this.db.query(
      `WITH before AS (
         SELECT id, read_at IS NULL AS was_unread FROM inbox_messages
          WHERE user_id = $1 AND (${moves.join(' OR ')}) FOR UPDATE)
       UPDATE inbox_messages m SET ${setClause(change)} FROM before WHERE m.id = before.id
       RETURNING m.id, before.was_unread`,
      [userId],
    );
    const rows = result[0];
    return {
      updated: rows.length,
      firstRead: change.read === true ? rows.filter((r) => r.was_unread).map((r) => r.id) : [],
    };
  }
}

/** A new message, as the inbox plugin's sender writes it: the answer's own fields, its app and user. */
export type NewInboxMessage = Pick<
  InboxMessageView,
  'id' | 'notificationId' | 'category' | 'title' | 'body' | 'url' | 'data'
> & {
  appId: string;
  /** The user's external id. */
  userId: string;
};

/** Anything that runs a parameterised query: a pg Pool in the worker. */
export interface Queryable {
  query<R extends object>(text: string, params: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * Writes a message once (its id is the delivery's: a retried send answers the stored row).
 * Undefined when the app no longer has the user.
 */
export async function insertInboxMessage(
  db: Queryable,
  m: NewInboxMessage,
): Promise<InboxMessageRow | undefined> {
  const { rows } = await db.query<InboxMessageRow>(
    `INSERT INTO inbox_messages (id, app_id, user_id, notification_id, category, title, body, url, data)
     SELECT $1, u.app_id, u.id, $4, $5, $6, $7, $8, $9 FROM users u
      WHERE u.app_id = $2 AND u.external_id = $3
     ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
     RETURNING ${MESSAGE_COLUMNS}`,
    [
      m.id,
      m.appId,
      m.userId,
      m.notificationId,
      m.category,
      m.title,
      m.body,
      m.url,
      m.data === null ? null : JSON.stringify(m.data),
    ],
  );
  return rows[0];
}
