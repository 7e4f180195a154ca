import { DateTime } from 'luxon';

/** A user's quiet window, wall-clock `HH:MM` in their time zone; `end` before `start` spans midnight. */
export interface QuietHours {
  start: string;
  end: string;
  /** Only these categories are held; absent: every non-critical notification. */
  categories: string[] | null;
}

export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * If `at` falls inside the quiet window in `timeZone`, the instant the window ends; else null.
 * Wall-clock arithmetic is left to Luxon (IANA zones), so windows across midnight and DST
 * changes end at the right local time: an end time that does not exist on a spring-forward
 * night moves to the first valid instant after it.
 */
export function quietHoursEnd(qh: QuietHours, timeZone: string | null, at: Date): Date | null {
  const start = minutes(qh.start);
  const end = minutes(qh.end);
  if (start === end) return null;
  const local = DateTime.fromJSDate(at, { zone: timeZone ?? 'UTC' });
  if (!local.isValid) return null;
  const now = local.hour * 60 + local.minute;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const day = now < end ? local.startOf('day') : local.startOf('day').plus({ days: 1 });
  const until = day.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  return until.toJSDate();
}

/** Whether the window applies to a notification of `category`. */
export function quietHoursApply(qh: QuietHours, category: string | null): boolean {
  return qh.categories === null || (category !== null && qh.categories.includes(category));
}
