import type { ChannelContents } from '../templates/notification-request';
import { FANOUT_CHUNK } from './fanout.constants';

/**
 * Estimated bytes of a chunk's jobs. The worker holds about four copies of them at once: the
 * rendered content, each job's JSON, the statement's array parameter, and its buffer. A
 * 1,000-recipient chunk of a 50 KB newsletter held 200 MB and ran the worker out of its 256 MB
 * heap (docs/benchmarks.md, session 8). At this size, a chunk takes about 40 MB at its peak.
 */
export const FANOUT_CHUNK_BYTES = 8 * 2 ** 20;
/** Fewest recipients a chunk takes, however large the content: each chunk is a round trip. */
export const FANOUT_MIN_CHUNK = 10;
/** A job's bytes besides its content: ids, address, times, and the row's other columns. */
const JOB_OVERHEAD_BYTES = 600;

/** What the content of a notification weighs: its channels before rendering, and its locales. */
export interface ContentSource {
  contents: ChannelContents;
  template?: { locales: Record<string, ChannelContents> };
}

/**
 * Estimated bytes of one delivery's job on each channel: the channel's content before rendering,
 * plus its largest locale variant (a variant overrides the default's fields), plus the job's own
 * fields. Rendering usually keeps the size: variables are short, and tracked links add a few
 * dozen bytes each.
 */
export function jobBytesByChannel(source: ContentSource): Map<string, number> {
  // Channels as keys: plugins add channels of their own, beyond the typed ones.
  const byChannel = (c: ChannelContents): Record<string, unknown> => c;
  const base = byChannel(source.contents);
  const locales = Object.values(source.template?.locales ?? {}).map(byChannel);
  const channels = new Set([...Object.keys(base), ...locales.flatMap((l) => Object.keys(l))]);
  const size = (content: unknown) => (content === undefined ? 0 : JSON.stringify(content).length);
  const bytes = new Map<string, number>();
  for (const channel of channels) {
    const variant = Math.max(0, ...locales.map((l) => size(l[channel])));
    bytes.set(channel, size(base[channel]) + variant + JOB_OVERHEAD_BYTES);
  }
  return bytes;
}

/** Recipients per chunk: as many as FANOUT_CHUNK_BYTES holds when each gets every channel. */
export function recipientsPerChunk(bytesByChannel: Map<string, number>): number {
  const perRecipient = [...bytesByChannel.values()].reduce((a, b) => a + b, 0);
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
