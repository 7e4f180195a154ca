import { z } from 'zod';
import { mailboxSchema } from '../common/email-address';
import { freeJson, freeRecord, JSON_LIMITS } from '../common/free-json';
import { CORE_CHANNELS } from '../plugins/core-channels';
import type { PluginChannel } from '../plugins/plugin-channels';
import { digestOptionSchema } from './digest-option';
import { buildStepsSchema } from './escalation-steps';
import { tagProblem } from './liquid-limits';

export { CORE_CHANNELS } from '../plugins/core-channels';

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

const coreContent = {
  push: pushContent.optional(),
  web: webContent.optional(),
  sms: smsContent.optional(),
  email: emailContent.optional(),
  webhook: webhookContent.optional(),
};

/** Names the channels that exist when a request names another one. */
function unknownChannel(channels: readonly string[]) {
  return (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys' && issue.keys
      ? `no loaded plugin serves channel ${issue.keys.map((k) => `"${k}"`).join(', ')} (channels: ${channels.join(', ')})`
      : undefined;
}

/**
 * `content` of a notification: the core channels' content, and each loaded plugin channel's,
 * checked by that plugin's schema.
 */
export function buildContentSchema(plugins: readonly PluginChannel[] = []) {
  const channels = [...CORE_CHANNELS, ...plugins.map((p) => p.channel)];
  const shape = {
    ...coreContent,
    ...Object.fromEntries(plugins.map((p) => [p.channel, p.content.optional()])),
  } as typeof coreContent;
  return z.strictObject(shape, { error: unknownChannel(channels) }).superRefine(refuseTooManyTags);
}

export const contentSchema = buildContentSchema();
/**
 * Content per channel. A plugin channel's content rides along under its own key, shaped by that
 * plugin's schema (the core reads only the core channels' fields).
 */
export type ChannelContents = z.infer<typeof contentSchema>;

const coreVariant = {
  push: pushContent.partial().optional(),
  web: webContent.partial().optional(),
  sms: smsContent.partial().optional(),
  email: emailFields.partial().optional(),
  webhook: webhookContent.partial().optional(),
};

/** A plugin channel's part of a locale variant: any fields, checked once merged with the default by the plugin's schema. */
const pluginVariant = freeRecord(JSON_LIMITS.webhookJson).optional();

/**
 * A template's locale variant: any fields of the default's channels. What it leaves out is
 * inherited (templates/locale-fallback.ts); the merged content is what must be complete.
 */
export function buildVariantContentSchema(plugins: readonly PluginChannel[] = []) {
  const channels = [...CORE_CHANNELS, ...plugins.map((p) => p.channel)];
  const shape = {
    ...coreVariant,
    ...Object.fromEntries(plugins.map((p) => [p.channel, pluginVariant])),
  } as typeof coreVariant;
  return z.strictObject(shape, { error: unknownChannel(channels) });
}

export const variantContentSchema = buildVariantContentSchema();

/** The schema of one channel's whole content (a core channel's, or the plugin's), for merged variants. */
export function channelContentSchema(
  channel: string,
  plugins: readonly PluginChannel[] = [],
): z.ZodType | undefined {
  if ((CORE_CHANNELS as readonly string[]).includes(channel))
    return contentSchema.shape[channel as keyof typeof coreContent];
  return plugins.find((p) => p.channel === channel)?.content;
}

const userId = z.string().min(1).max(256);

/**
 * A notification request, accepting the loaded plugins' channels besides the core's. A `digest`
 * belongs to one user and closes on its own clock (docs/digest.md): only with to.userId, no sendAt.
 */
export function buildNotificationRequestSchema(plugins: readonly PluginChannel[] = []) {
  const channels = [...CORE_CHANNELS, ...plugins.map((p) => p.channel)] as [string, ...string[]];
  const channel = z.enum(channels, {
    error: (issue) =>
      `no loaded plugin serves channel ${JSON.stringify(issue.input)} (channels: ${channels.join(', ')})`,
  });
  return z
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
      content: (plugins.length === 0 ? contentSchema : buildContentSchema(plugins)).optional(),
      template: z.string().min(1).max(200).optional(),
      templateVersion: z
        .number()
        .int()
        .positive()
        .max(999_999_999)
        .optional()
        .describe('a published version; default: the latest'),
      data: freeRecord(JSON_LIMITS.data).default({}),
      channels: z.array(channel).min(1).optional(),
      steps: buildStepsSchema(channel).optional(),
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
      digest: digestOptionSchema.optional(),
    })
    .strict()
    .refine((r) => (r.content !== undefined) !== (r.template !== undefined), {
      message: 'give either content or template',
      path: ['content'],
    })
    .refine((r) => r.templateVersion === undefined || r.template !== undefined, {
      message: 'templateVersion needs template',
      path: ['templateVersion'],
    })
    .refine((r) => r.digest === undefined || r.to.userId !== undefined, {
      message: 'digest needs to.userId (not userIds or topic)',
      path: ['digest'],
    })
    .refine((r) => r.digest === undefined || r.sendAt === undefined, {
      message: 'digest cannot be combined with sendAt (the window decides when it is sent)',
      path: ['digest'],
    })
    .refine((r) => r.digest === undefined || r.steps === undefined, {
      message: 'digest cannot be combined with steps (a digest is one message on its own channels)',
      path: ['digest'],
    })
    .refine((r) => r.steps === undefined || r.channels === undefined, {
      message: 'give either channels or steps',
      path: ['steps'],
    })
    .refine((r) => r.steps === undefined || r.to.topic === undefined, {
      message: 'steps need named users (to.userId or to.userIds), not a topic',
      path: ['steps'],
    });
}

export const notificationRequestSchema = buildNotificationRequestSchema();

export type NotificationRequest = z.infer<typeof notificationRequestSchema>;
