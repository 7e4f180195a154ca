import type { ChannelContents } from '../templates/notification-request';

/**
 * Bytes of jobs one accept step (a request, a fan-out chunk) may plan at once. A process holds
 * about four copies of them for a moment: the rendered content, each job's JSON, the statement's
 * parameter, and its buffer. A 1,000-recipient fan-out chunk of a 50 KB newsletter held 200 MB and
 * ran the worker out of its 256 MB heap (docs/benchmarks.md, session 8). At this size a step takes
 * about 40 MB at its peak.
 */
export const JOB_BYTES_AT_ONCE = 8 * 2 ** 20;
/**
 * Most bytes of jobs one item of a bulk request may leave held until the request's items are all
 * stored (its deliveries then share the request's batch jobs). An item with more enqueues its own
 * jobs at once, so a request of 1,000 items holds at most 16 MB, whatever its templates weigh,
 * while a receipt e-mail (5–15 KB) still travels in batch jobs.
 */
export const HELD_JOB_BYTES_PER_ITEM = 16 * 1024;
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
  // A stored template's weight is reckoned once per cached version (its locales object is the
  // version's own, shared by every request), not once per request.
  const locales = source.template?.locales;
  if (locales === undefined) return weigh(source);
  const known = byTemplate.get(locales);
  if (known !== undefined) return known;
  const bytes = weigh(source);
  byTemplate.set(locales, bytes);
  return bytes;
}

const byTemplate = new WeakMap<object, Map<string, number>>();

function weigh(source: ContentSource): Map<string, number> {
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

/** Estimated bytes of one recipient's jobs: every channel of the content. */
export function jobBytesPerRecipient(source: ContentSource): number {
  return [...jobBytesByChannel(source).values()].reduce((a, b) => a + b, 0);
}
