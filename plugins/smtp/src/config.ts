import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

/** A boolean that also reads "true"/"false"/"1"/"0" from environment variables (z.coerce.boolean would take "false" as true). */
const flag = (fallback: boolean) =>
  z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .default(fallback)
    .transform((v) => v === true || v === 'true' || v === '1');

export const smtpConfig = z.object({
  host: z.string().min(1),
  /** 587 (submission, STARTTLS), 465 with `secure`, 25 for a local relay. */
  port: z.coerce.number().int().min(1).max(65535).default(587),
  /** Implicit TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure: flag(false),
  /** Refuse to send unless the connection is upgraded with STARTTLS. */
  requireTls: flag(false),
  /** Never upgrade, even when offered (a local relay or the sandbox). */
  ignoreTls: flag(false),
  /** Verify the server certificate. Turn off only for a self-signed test server. */
  rejectUnauthorized: flag(true),
  /** Extra CA (PEM) trusted for the server certificate. */
  ca: z.string().optional(),
  user: z.string().optional(),
  pass: secret().optional(),
  from: z.email(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
  /** Pooled connections kept open to the server, and messages sent on one before it is recycled. */
  maxConnections: z.coerce.number().int().positive().default(5),
  maxMessages: z.coerce.number().int().positive().default(100),
  timeoutMs: z.coerce.number().int().positive().default(30_000),
});

/** An app with its own mail server or account. */
export const smtpAppConfig = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(1).max(65535).default(587),
  secure: flag(false),
  requireTls: flag(false),
  user: z.string().optional(),
  pass: secret().optional(),
  from: z.email().optional(),
  fromName: z.string().optional(),
  replyTo: z.email().optional(),
});

export type SmtpConfig = z.infer<typeof smtpConfig>;
export type SmtpAppConfig = z.infer<typeof smtpAppConfig>;
