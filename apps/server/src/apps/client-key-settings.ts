import { z } from 'zod';
import { mailboxSchema } from '../common/email-address';

const origin = z
  .string()
  .regex(
    /^https?:\/\/[^/?#\s@]+$/,
    'an origin: scheme and host, optional port, no path (https://app.example)',
  )
  .transform((o) => o.toLowerCase());

/**
 * App settings about client (publishable) keys and e-mail senders, spread into the app settings
 * schema. A client key ships in every copy of the app, so it may only trigger what the backend
 * prepared: the templates listed here, to its own user, within a small SMS budget.
 */
export const clientKeySettings = {
  /** Templates client keys may send (to the signed-in user); inline content is server-key only. Default: none. */
  clientTemplates: z.array(z.string().min(1).max(200)).max(500).default([]),
  /** SMS deliveries a client key may cause per user per day (rolling 24 h). Default: 5. */
  clientSmsPerDay: z.number().int().min(0).max(1000).default(5),
  /** Browser origins that may call the client-key routes (CORS). Default: none. */
  corsOrigins: z.array(origin).max(100).default([]),
  /** Verified e-mail senders: an e-mail's `from` must be one of these addresses. Unset: `from` may not be set (the provider's configured sender). */
  senders: z.array(mailboxSchema).min(1).max(100).optional(),
};
