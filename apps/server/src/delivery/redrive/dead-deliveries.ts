import { z } from 'zod';
import { UUID } from '../../common/ids';

/** The statuses a delivery can be re-driven from: it ended without reaching the provider. */
export const REDRIVABLE = ['failed', 'expired'] as const;

/** Which ended deliveries a listing or a re-drive covers. `from`/`to`: when they ended (updated_at). */
export const deadFilterShape = {
  status: z.enum(REDRIVABLE).optional(),
  plugin: z.string().min(1).max(100).optional(),
  channel: z.string().min(1).max(50).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** The previous page's nextCursor (a delivery id; pages go oldest first). */
  cursor: z.string().regex(UUID, 'a cursor from a previous page').optional(),
};
