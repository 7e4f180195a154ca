import type { z } from 'zod';
import type { message } from './inbox.openapi';

/** A message as the API answers it: the type of its documented answer schema, so the two cannot drift. */
export type InboxMessageView = z.infer<typeof message>;

export interface InboxMessageRow {
  id: string;
  notification_id: string;
  category: string | null;
  title: string;
  body: string;
  url: string | null;
  data: Record<string, unknown> | null;
  created_at: Date;
  read_at: Date | null;
  archived_at: Date | null;
}

export const MESSAGE_COLUMNS =
  'id, notification_id, category, title, body, url, data, created_at, read_at, archived_at';

export function viewOf(row: InboxMessageRow): InboxMessageView {
  return {
    id: row.id,
    notificationId: row.notification_id,
    category: row.category,
    title: row.title,
    body: row.body,
    url: row.url,
    data: row.data,
    createdAt: new Date(row.created_at).toISOString(),
    readAt: row.read_at ? new Date(row.read_at).toISOString() : null,
    archivedAt: row.archived_at ? new Date(row.archived_at).toISOString() : null,
  };
}
