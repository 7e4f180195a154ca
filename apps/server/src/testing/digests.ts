import type { Sandbox } from '@clarion/sandbox';
import { sql } from './db';

/**
 * Content of a digest test notification: a webhook whose JSON renders what the template sees of
 * the digest (`data.digest`), so the receiver's body shows count, first, last and items.
 */
export const DIGEST_WEBHOOK_CONTENT = {
  webhook: {
    json: {
      count: '{{ data.digest.count }}',
      first: '{{ data.digest.first.n }}',
      last: '{{ data.digest.last.n }}',
      items: '{% for i in data.digest.items %}{{ i.n }},{% endfor %}',
    },
  },
};

/** What a digest message rendered from DIGEST_WEBHOOK_CONTENT looks like at the receiver. */
export interface DigestBody {
  count: string;
  first: string;
  last: string;
  items: string;
}

/** Digest messages the webhook receiver accepted for one user (the user's webhook is `/webhook/<user>`). */
export function digestMessagesTo(
  sandbox: Sandbox,
  user: string,
): { notificationId: string; content: DigestBody; receivedAt: string }[] {
  return sandbox.recorder.list({ provider: 'webhook', to: user, outcome: 'accepted' }).map((r) => {
    const body = r.payload as { notificationId: string; content: DigestBody };
    return { notificationId: body.notificationId, content: body.content, receivedAt: r.receivedAt };
  });
}

/** The digests of an app, as stored. */
export function digestsOf(
  dbUrl: string,
  appId: string,
): Promise<
  { id: string; key: string; status: string; item_count: number; notification_id: string | null }[]
> {
  return sql(
    dbUrl,
    'SELECT id, key, status, item_count, notification_id FROM digests WHERE app_id = $1 ORDER BY opens_at',
    [appId],
  );
}

/** Moves a digest's window end to now: the test's clock jump instead of waiting out a long window. */
export async function closeNow(dbUrl: string, digestId: string): Promise<void> {
  await sql(dbUrl, `UPDATE digests SET closes_at = now() WHERE id = $1 AND status = 'open'`, [digestId]);
}
