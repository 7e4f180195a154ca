import { z } from 'zod';

/** `content.inbox` of a notification. Strings may hold Liquid, rendered per recipient. */
export const inboxContentSchema = z
  .object({
    title: z.string().min(1).max(300),
    body: z.string().max(10_000).default(''),
    url: z
      .string()
      .min(1)
      .max(2000)
      .optional()
      .meta({ description: 'Opened when the user clicks the message' }),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type InboxContent = z.infer<typeof inboxContentSchema>;
