import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

/** A Vonage sender: a number in international format without `+`, or an alphanumeric id (≤ 11 characters). */
const sender = z
  .string()
  .transform((s) => s.replace(/^\+/, ''))
  .pipe(
    z
      .string()
      .regex(
        /^(\d{5,15}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
        'a number (digits) or an alphanumeric sender id of at most 11 characters',
      ),
  );

const credentialFields = {
  apiKey: z.string().min(1),
  apiSecret: secret(),
  from: sender,
  /** Clarion's delivery-receipt endpoint for Vonage (`callback`); unset uses the account's default. */
  statusCallbackUrl: z.url().optional(),
};

export const vonageConfig = z.object({
  ...credentialFields,
  /** SMS API origin; the sandbox replaces https://rest.nexmo.com here. */
  restHost: z.url().default('https://rest.nexmo.com'),
  timeoutMs: z.coerce.number().int().positive().default(10_000),
});

/** An app that brings its own Vonage account. */
export const vonageAppConfig = z.object(credentialFields);

export type VonageConfig = z.infer<typeof vonageConfig>;
export type VonageAppConfig = z.infer<typeof vonageAppConfig>;
