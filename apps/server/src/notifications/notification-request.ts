import { z } from 'zod';
import { mailboxSchema } from '../common/email-address';
import { freeJson, freeRecord, JSON_LIMITS } from '../common/free-json';
import { tagProblem } from '../templates/liquid-limits';

const data = z
  .record(z.string(), z.string())
  .describe('custom key/value data; values are strings (FCM requires it)');
/** A URL, or a Liquid template of one (`https://x/{{ data.id }}`, `{{ data.imageUrl }}`): checked again once rendered. */
const url = z.union([
  z.url(),
  z
    .string()
    .max(2000)
    .regex(/\{\{|\{%/, 'a URL or a Liquid template of one'),
]);
const pushContent = z
  .object({
    title: z.string().max(1000).optional(),
    body: z.string().max(4000).optional(),
    data: data.optional(),
    sound: z.string().max(200).optional(),
    badge: z.number().int().min(0).optional(),
    image: url.optional(),
    url: url.optional(),
    actionCategory: z.string().max(200).optional(),
    threadId: z.string().max(200).optional(),
    mutableContent: z.boolean().optional(),
    androidChannelId: z.string().max(200).optional(),
  })
  .strict();
const webContent = pushContent.extend({ icon: url.optional() }).strict();
const smsContent = z.object({ text: z.string().min(1).max(1600) }).strict();
const emailFields = z
  .object({
    subject: z.string().min(1).max(998),
    html: z.string().max(1_000_000).optional(),
    text: z.string().max(1_000_000).optional(),
    from: mailboxSchema.optional(),
    replyTo: mailboxSchema.optional(),
  })
  .strict();
const emailContent = emailFields.refine(
  (e) => e.html !== undefined || e.text !== undefined,
  'an e-mail needs html or text',
);
const webhookContent = z.object({ json: freeJson(JSON_LIMITS.webhookJson) }).strict();

/** Refuses Liquid strings too costly to parse, before anything parses them. */
export function refuseTooManyTags(value: unknown, ctx: z.RefinementCtx): void {
  const problem = tagProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
}

export const CORE_CHANNELS = ['push', 'web', 'sms', 'email', 'webhook'] as const;

export const contentSchema = z
  .object({
    push: pushContent.optional(),
    web: webContent.optional(),
    sms: smsContent.optional(),
    email: emailContent.optional(),
    webhook: webhookContent.optional(),
  })
  .strict()
  .superRefine(refuseTooManyTags);
export type ChannelContents = z.infer<typeof contentSchema>;

/**
 * A template's locale variant: any fields of the default's channels. What it leaves out is
 * inherited (templates/locale-fallback.ts); the merged content is what must be complete.
 */
export const variantContentSchema = z
  .object({
    push: pushContent.partial().optional(),
    web: webContent.partial().optional(),
    sms: smsContent.partial().optional(),
    email: emailFields.partial().optional(),
    webhook: webhookContent.partial().optional(),
  })
  .strict();

const userId = z.string().min(1).max(256);

export const notificationRequestSchema = z
  .object({
    to: z
      .object({
        userId: userId.optional(),
        userIds: z.array(userId).min(1).max(100_000).optional(),
        topic: z.string().min(1).max(256).optional(),
      })
      .strict()
      .refine((t) => [t.userId, t.userIds, t.topic].filter((x) => x !== undefined).length === 1, {
        message: 'give exactly one of userId, userIds or topic',
      }),
    content: contentSchema.optional(),
    template: z.string().min(1).max(200).optional(),
    templateVersion: z
      .number()
      .int()
      .positive()
      .max(999_999_999)
      .optional()
      .describe('a published version; default: the latest'),
    data: freeRecord(JSON_LIMITS.data).default({}),
    channels: z.array(z.enum(CORE_CHANNELS)).min(1).optional(),
    eventId: z.string().min(1).max(256).optional(),
    category: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[a-z0-9_.-]+$/i, 'letters, digits, _ . - only')
      .optional(),
    priority: z.enum(['high', 'normal', 'low']).default('normal'),
    sendAt: z.iso.datetime({ offset: true }).optional(),
    ttl: z
      .number()
      .int()
      .positive()
      .max(28 * 24 * 3600)
      .optional()
      .describe('seconds the message stays worth sending'),
    collapseKey: z.string().min(1).max(64).optional(),
    pushType: z.enum(['alert', 'background']).default('alert'),
  })
  .strict()
  .refine((r) => (r.content !== undefined) !== (r.template !== undefined), {
    message: 'give either content or template',
    path: ['content'],
  })
  .refine((r) => r.templateVersion === undefined || r.template !== undefined, {
    message: 'templateVersion needs template',
    path: ['templateVersion'],
  });

export type NotificationRequest = z.infer<typeof notificationRequestSchema>;
