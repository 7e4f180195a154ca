import type { DigestData } from '../templates/digest-option';
import type { NotificationRequest } from '../templates/notification-request';
import type { DigestItems } from './digest-repository';

/** At most this many items reach the template as `data.digest.items` (`count` is always all of them). */
export const DIGEST_ITEMS_LIMIT = 50;
/** …and fewer when their data together would pass this many bytes of JSON (a message stays small). */
export const DIGEST_ITEMS_MAX_BYTES = 256 * 1024;

/** The eventId of a digest's message: a second closer (after a crash) is a repeat, not a second message. */
export const digestEventId = (digestId: string): string => `digest:${digestId}`;

/** The oldest items whose data fit the byte budget (at least the first). */
function itemsWithin(oldest: Record<string, unknown>[], maxBytes: number): Record<string, unknown>[] {
  const kept: Record<string, unknown>[] = [];
  let bytes = 0;
  for (const item of oldest) {
    bytes += Buffer.byteLength(JSON.stringify(item));
    if (kept.length > 0 && bytes > maxBytes) break;
    kept.push(item);
  }
  return kept;
}

/**
 * The one notification a digest sends: the request that opened it (its template or content,
 * category, priority, channels, ttl…), to the same user, with `data` = the first item's data plus
 * `digest: {count, first, last, items}`, and the digest's own eventId. Deterministic for the same
 * items, so a closer that runs again builds the same body and is answered as a repeat.
 */
export function digestMessage(
  digestId: string,
  opening: Record<string, unknown>,
  items: DigestItems,
): NotificationRequest {
  const { eventId: _eventId, sendAt: _sendAt, data: _data, ...rest } = opening;
  const first = items.oldest[0] ?? {};
  const digest: DigestData = {
    count: items.count,
    first,
    last: items.newest ?? first,
    items: itemsWithin(items.oldest, DIGEST_ITEMS_MAX_BYTES),
  };
  return {
    ...(rest as Omit<NotificationRequest, 'data' | 'eventId'>),
    data: { ...first, digest },
    eventId: digestEventId(digestId),
  };
}
