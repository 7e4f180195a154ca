import { z } from 'zod';
import { apiQuotaSchema, capRuleSchema } from './cap-rules';
import { categoryDefaultsSchema } from './category-defaults';
import { clientKeySettings } from './client-key-settings';

/** Per-app settings an operator sets; everything optional with safe defaults. */
export const appSettingsSchema = z
  .object({
    /** Client keys may send notifications (to the signed-in user only). Default: no. */
    allowClientSending: z.boolean().default(false),
    /** Ordered providers per channel, e.g. {"sms": ["twilio", "vonage"]}: the first is used, the next on provider failure. */
    providers: z.record(z.string(), z.array(z.string()).min(1)).default({}),
    /** Categories that preferences and caps cannot silence. */
    criticalCategories: z.array(z.string()).default(['security']),
    /** Webhook receiver for the `webhook` channel when a user has no URL of their own. */
    webhookUrl: z.url().optional(),
    /** Category → `opt_in` | `opt_out` when a user has no rule of their own (unlisted: opt_out). */
    categoryDefaults: categoryDefaultsSchema.default({}),
    /** Per-user frequency caps (see ratelimits/cap-rules.ts). Critical categories bypass them. */
    rateLimits: z.array(capRuleSchema).max(50).default([]),
    /** This app's API quota per key, overriding the environment's default. */
    apiQuota: apiQuotaSchema.optional(),
    /** Rewrite links in e-mail, push and web push to signed tracking URLs (`/t/…`) that record clicks. Default: no. */
    trackClicks: z.boolean().optional(),
    /** Add an open pixel (`/t/o/…`) to HTML e-mail. Default: no. */
    trackOpens: z.boolean().optional(),
    /** What client keys may do (templates, SMS budget, browser origins) and the verified `from` senders: see auth/client-key-settings.ts. */
    ...clientKeySettings,
  })
  .strict();

export type AppSettings = z.infer<typeof appSettingsSchema>;
