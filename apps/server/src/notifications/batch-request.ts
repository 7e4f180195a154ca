import { z } from 'zod';

/** The most notifications one batch request may carry. */
export const BATCH_MAX_ITEMS = 1000;

/**
 * The batch envelope only: each item is checked on its own (as the body of a single
 * `POST /v1/notifications`), so one bad item is a 400 in its own result, not the whole batch's.
 */
export const batchEnvelopeSchema = z
  .object({
    notifications: z
      .array(z.unknown())
      .min(1)
      .max(BATCH_MAX_ITEMS)
      .describe(`1 to ${BATCH_MAX_ITEMS} bodies of POST /v1/notifications`),
  })
  .strict();

/** One item's answer: the status and body a single request would have got. */
export type BatchItemResult =
  | {
      status: 202 | 200;
      id: string;
      /** The single answer's `status`: accepted, scheduled, fanout or duplicate. */
      state: string;
      duplicate?: boolean;
      deliveries?: number;
      suppressed?: number;
    }
  | { status: number; error: { code: string; message: string; details?: unknown } };
