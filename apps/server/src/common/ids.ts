import { v7 } from 'uuid';

/** Time-ordered UUIDv7: index-friendly, and safe as a BullMQ job id (not all digits, no `:`). */
export const newId = (): string => v7();

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The smallest UUIDv7 of a millisecond: every id below it was made before that time. */
export function uuidv7Floor(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
