import { webPushKeysProblem } from '@clarion/plugin-webpush';
import { z } from 'zod';
import { freeRecord, JSON_LIMITS } from '../common/free-json';

export const E164 = /^\+[1-9]\d{6,14}$/;

export const userIdParam = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^/\s]+$/, 'no slashes or spaces');

export const upsertUserSchema = z
  .object({
    locale: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 tag such as pt-BR')
      .nullable()
      .optional(),
    timezone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'an IANA time zone such as Europe/Lisbon')
      .nullable()
      .optional(),
    email: z.email().max(320).nullable().optional(),
    phone: z.string().regex(E164, 'E.164, e.g. +14155550100').nullable().optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL' })
      .max(2000)
      .nullable()
      .optional(),
    attributes: freeRecord(JSON_LIMITS.attributes).optional(),
  })
  .strict();
export type UpsertUser = z.infer<typeof upsertUserSchema>;

const subscription = z
  .object({
    // Where it may point is checked against the outbound policy by the controller (outbound-urls.ts).
    endpoint: z.url({ protocol: /^https$/, error: 'an https URL (push services use TLS)' }).max(2000),
    keys: z
      .object({ p256dh: z.string().max(200), auth: z.string().max(100) })
      .strict()
      .superRefine((keys, ctx) => {
        const problem = webPushKeysProblem(keys);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    expirationTime: z.number().nullable().optional(),
  })
  .strict();

export const registerDeviceSchema = z.discriminatedUnion('platform', [
  z
    .object({
      platform: z.literal('ios'),
      token: z.string().regex(/^[0-9a-fA-F]{32,200}$/, 'an APNs device token is hex'),
    })
    .strict(),
  z.object({ platform: z.literal('android'), token: z.string().min(20).max(4096) }).strict(),
  z.object({ platform: z.literal('web'), subscription }).strict(),
]);
export type RegisterDevice = z.infer<typeof registerDeviceSchema>;

export const topicParam = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9_.~-]+$/, 'letters, digits, _ . ~ - only');
