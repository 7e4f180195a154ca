import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bytes for ids, drawn from the OS 4 KiB at a time. uuid's own source asks for 16 bytes per
 * id (a WebCrypto call each), which was over half of planning a campaign's recipient in the worker.
 */
const pool = new Uint8Array(4096);
let drawn = pool.length;
function random16(): Uint8Array {
  if (drawn + 16 > pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  drawn += 16;
  return pool.subarray(drawn - 16, drawn);
}

/**
 * The time and counter of the last id. uuid keeps them itself only when it also draws the random
 * bytes; given bytes, it is given these too, by the same rule as its own (RFC 9562's method 1): a
 * new millisecond starts the counter from random bits, a repeated one adds one, so ids made by this
 * process always increase.
 */
const clock = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/** Time-ordered UUIDv7: index-friendly, and safe as a BullMQ job id (not all digits, no `:`). */
export function newId(): string {
  const random = random16();
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = (random[6]! << 23) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs++;
  }
  return v7({ random, msecs: clock.msecs, seq: clock.seq });
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The smallest UUIDv7 of a millisecond: every id below it was made before that time. */
export function uuidv7Floor(at: Date): string {
  const hex = at.getTime().toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
