import { secret } from '@clarion/plugin-sdk';
import { z } from 'zod';

const accountSid = z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'an account SID is AC followed by 32 hex digits');
const apiKeySid = z.string().regex(/^SK[0-9a-fA-F]{32}$/, 'an API key SID is SK followed by 32 hex digits');
const serviceSid = z
  .string()
  .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID is MG followed by 32 hex digits');
/** E.164 number, short code (5–6 digits) or alphanumeric sender id (≤ 11 characters, at least one letter). */
const sender = z
  .string()
  .regex(
    /^(\+[1-9]\d{1,14}|\d{5,6}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
    'an E.164 number, a short code or an alphanumeric sender id',
  );

/** Credentials and sender as they appear both process-wide and per app. */
const credentialFields = {
  accountSid,
  /** The account's auth token; or use an API key (apiKeySid + apiKeySecret), which can be revoked alone. */
  authToken: secret().optional(),
  apiKeySid: apiKeySid.optional(),
  apiKeySecret: secret().optional(),
  /** Sender: a Twilio number, short code or alphanumeric id… */
  from: sender.optional(),
  /** …or a Messaging Service, which picks the sender and queues to its throughput. Wins over `from`. */
  messagingServiceSid: serviceSid.optional(),
  /** Clarion's Twilio status callback endpoint; Twilio posts sent/delivered/undelivered there. */
  statusCallbackUrl: z.url().optional(),
};

type Credentials = {
  authToken?: string | undefined;
  apiKeySid?: string | undefined;
  apiKeySecret?: string | undefined;
  from?: string | undefined;
  messagingServiceSid?: string | undefined;
};
const checkCredentials = (c: Credentials, ctx: z.RefinementCtx) => {
  if (!c.authToken && !(c.apiKeySid && c.apiKeySecret)) {
    ctx.addIssue({
      code: 'custom',
      path: ['authToken'],
      message: 'set authToken, or apiKeySid and apiKeySecret',
    });
  }
  if (!c.from && !c.messagingServiceSid) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'set from or messagingServiceSid' });
  }
};

export const twilioConfig = z
  .object({
    ...credentialFields,
    /** API origin; the sandbox or a proxy replaces https://api.twilio.com here. */
    baseUrl: z.url().default('https://api.twilio.com'),
    timeoutMs: z.coerce.number().int().positive().default(10_000),
    /** Keep-alive sockets to the API per client (Twilio allows about 100 concurrent requests per account). */
    maxSockets: z.coerce.number().int().positive().default(100),
  })
  .superRefine(checkCredentials);

/** An app that brings its own Twilio account: same fields, minus transport settings. */
export const twilioAppConfig = z.object(credentialFields).superRefine(checkCredentials);

export type TwilioConfig = z.infer<typeof twilioConfig>;
export type TwilioAppConfig = z.infer<typeof twilioAppConfig>;
