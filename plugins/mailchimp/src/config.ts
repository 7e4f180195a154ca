import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

export const mailchimpConfig = z.object({
  /** A Mailchimp Transactional (Mandrill) API key. */
  apiKey: secret(),
  /** Default sender; its domain must be verified (and have DKIM/SPF) in Mailchimp Transactional. */
  from: z.email(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
  /** API base; the sandbox replaces https://mandrillapp.com/api/1.3 here. */
  baseUrl: z.url().default('https://mandrillapp.com/api/1.3'),
  /** The client's axios instance is module-wide, so this applies to every app's client. */
  timeoutMs: z.coerce.number().int().positive().default(15_000),
  /** Send through this subaccount (its own reputation and quota). */
  subaccount: z.string().optional(),
});

export const mailchimpAppConfig = z.object({
  apiKey: secret(),
  from: z.email().optional(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
  subaccount: z.string().optional(),
});

export type MailchimpConfig = z.infer<typeof mailchimpConfig>;
export type MailchimpAppConfig = z.infer<typeof mailchimpAppConfig>;
