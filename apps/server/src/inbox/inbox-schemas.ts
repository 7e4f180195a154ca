import { z } from 'zod';
import { UUID } from '../common/ids';
import { userIdParam } from '../contacts/user-schemas';

/** `userId`: required with a server key; with a client key optional, and only the signed-in user. */
export const inboxUserQuery = z.object({ userId: userIdParam.optional() }).strict();

export const inboxListQuery = z
  .object({
    userId: userIdParam.optional(),
    view: z
      .enum(['inbox', 'unread', 'archived', 'all'])
      .default('inbox')
      .meta({ description: '`inbox`: not archived (default); `unread`; `archived`; `all`' }),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z
      .string()
      .regex(UUID, 'the nextCursor of the previous page')
      .optional()
      .meta({ description: 'The `nextCursor` of the previous page' }),
  })
  .strict();

export const inboxMessageParams = z.object({ id: z.string().regex(UUID, 'a message id (UUID)') });

export const inboxChangeBody = z
  .object({
    read: z.boolean().optional().meta({ description: 'true: read (counts as `opened`); false: unread' }),
    archived: z.boolean().optional().meta({ description: 'true: archived; false: back in the inbox' }),
  })
  .strict()
  .refine((b) => b.read !== undefined || b.archived !== undefined, 'give read and/or archived');
