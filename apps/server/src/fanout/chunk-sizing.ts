import { JOB_BYTES_AT_ONCE } from '../ingest/job-bytes';
import { FANOUT_CHUNK } from './fanout.constants';

/**
 * A fan-out chunk's share of memory: half of JOB_BYTES_AT_ONCE, as two chunks are written at once
 * (fanout.processor.ts). With 8 MB chunks two in flight took the newsletter worker to 450–474 MB.
 */
export const FANOUT_CHUNK_BYTES = JOB_BYTES_AT_ONCE / 2;
/** Fewest recipients a chunk takes, however large the content: each chunk is a round trip. */
export const FANOUT_MIN_CHUNK = 10;

/** Recipients per chunk: as many as FANOUT_CHUNK_BYTES holds of `perRecipient` bytes of jobs each (jobBytesPerRecipient). */
export function recipientsPerChunk(perRecipient: number): number {
  return Math.max(
    FANOUT_MIN_CHUNK,
    Math.min(FANOUT_CHUNK, Math.floor(FANOUT_CHUNK_BYTES / Math.max(1, perRecipient))),
  );
}

/**
 * Deliveries a plugin queue may hold ready to run before a fan-out feeding it waits: the count
 * limit, and as many of this notification's jobs as fit in the byte limit (0: none). A queue of
 * newsletters then holds megabytes rather than gigabytes of rendered HTML in Redis.
 */
export function backlogLimit(maxDeliveries: number, maxBytes: number, jobBytes: number): number {
  if (maxBytes === 0) return maxDeliveries;
  return Math.min(maxDeliveries, Math.max(1, Math.floor(maxBytes / Math.max(1, jobBytes))));
}
