import { v7 } from 'uuid';

/** Time-ordered UUIDv7: index-friendly, and safe as a BullMQ job id (not all digits, no `:`). */
export const newId = (): string => v7();

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
