import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

const senderFields = {
  /** Default sender address (a verified sender or an address on an authenticated domain). */
  from: z.email(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
};

export const sendgridConfig = z.object({
  apiKey: secret(),
  ...senderFields,
  /** API origin with trailing slash; `https://api.eu.sendgrid.com/` for EU data residency, or the sandbox. */
  baseUrl: z.url().default('https://api.sendgrid.com/'),
  timeoutMs: z.coerce.number().int().positive().default(10_000),
});

/** An app with its own SendGrid account (or subuser key) and sender. */
export const sendgridAppConfig = z.object({
  apiKey: secret(),
  from: z.email().optional(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
});

export type SendgridConfig = z.infer<typeof sendgridConfig>;
export type SendgridAppConfig = z.infer<typeof sendgridAppConfig>;
