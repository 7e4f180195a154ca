import { z } from 'zod';
import { durationMs } from '../common/duration';

/** Shortest and longest digest window: shorter is no digest, longer holds messages past any use. */
export const DIGEST_WINDOW_MIN_MS = 5_000;
export const DIGEST_WINDOW_MAX_MS = 7 * 24 * 3600 * 1000;

/**
 * `digest` of a notification request: join the open digest of `to.userId` and `key`, or open one
 * that closes `window` from now; one message goes out when it closes (docs/digest.md).
 */
export const digestOptionSchema = z
  .object({
    key: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9_.:-]+$/i, 'letters, digits, _ . : - only'),
    window: z
      .string()
      .superRefine((text, ctx) => {
        const ms = durationMs(text);
        if (ms === undefined)
          ctx.addIssue({ code: 'custom', message: 'a duration such as 30s, 15m, 2h or 1d' });
        else if (ms < DIGEST_WINDOW_MIN_MS || ms > DIGEST_WINDOW_MAX_MS)
          ctx.addIssue({ code: 'custom', message: 'between 5s and 7d' });
      })
      .describe('how long the digest stays open after its first notification: 30s, 15m, 2h, 1d (5s to 7d)'),
  })
  .strict()
  .describe('join the open digest of to.userId and key; one message when its window closes');

export type DigestOption = z.infer<typeof digestOptionSchema>;

/** What a template sees as `data.digest` in a digest's message (digest/digest-message.ts builds it). */
export interface DigestData {
  /** How many notifications joined (all of them). */
  count: number;
  /** The `data` of the oldest. */
  first: Record<string, unknown>;
  /** The `data` of the newest. */
  last: Record<string, unknown>;
  /** The `data` of each, oldest first, up to the limits in docs/digest.md. */
  items: Record<string, unknown>[];
}

/** `data.digest` of a digest holding only this item: the join checks the template against it. */
export function digestOfOne(data: Record<string, unknown>): DigestData {
  return { count: 1, first: data, last: data, items: [data] };
}
