import { z } from 'zod';
import { freeRecord, JSON_LIMITS } from '../common/free-json';
import { userIdParam } from '../contacts/user-schemas';
import type { PluginChannel } from '../plugins/plugin-channels';
import { mergeVariants } from './locale-fallback';
import {
  buildContentSchema,
  buildVariantContentSchema,
  type ChannelContents,
  CORE_CHANNELS,
  channelContentSchema,
  contentSchema,
  refuseTooManyTags,
  variantContentSchema,
} from './notification-request';

/** Template keys: what a product service names in code; bounded so they stay readable and indexable. */
export const templateKeyParam = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    'letters, digits, _ . - (up to 128, starting with a letter or digit)',
  );

export const versionParam = z
  .string()
  .regex(/^[1-9]\d{0,8}$/, 'a positive integer version')
  .transform(Number);

export const localeTag = z
  .string()
  .max(35)
  .regex(/^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/i, 'a BCP 47 tag such as pt-BR');

const data = freeRecord(JSON_LIMITS.data);

/** A user profile for rendering without a stored user (preview, save-time samples). */
export const inlineUserSchema = z
  .object({
    id: z.string().min(1).max(256).optional(),
    locale: localeTag.nullable().optional(),
    timezone: z.string().max(64).nullable().optional(),
    attributes: freeRecord(JSON_LIMITS.attributes).optional(),
  })
  .strict();
export type InlineUser = z.infer<typeof inlineUserSchema>;

const nonEmpty = (c: Record<string, unknown>) => Object.values(c).some((v) => v !== undefined);

/**
 * `PUT /v1/templates/:key`: the default content, optional locale variants, optional sample for
 * size estimates. The loaded plugins' channels are accepted beside the core's.
 */
export function buildPublishTemplateSchema(plugins: readonly PluginChannel[] = []) {
  const content = plugins.length === 0 ? contentSchema : buildContentSchema(plugins);
  const variant = plugins.length === 0 ? variantContentSchema : buildVariantContentSchema(plugins);
  return (
    z
      .object({
        description: z.string().max(1000).optional(),
        defaultLocale: localeTag.optional(),
        content: content.refine(nonEmpty, 'content needs at least one channel'),
        locales: z
          .record(localeTag, variant.refine(nonEmpty, 'a locale variant needs at least one channel'))
          .refine((l) => Object.keys(l).length <= 100, 'at most 100 locale variants')
          // Stored as given; every reader merges a variant over the default first (mergeVariants).
          .transform((l) => l as Record<string, ChannelContents>)
          .default({}),
        sample: z.object({ data: data.optional(), user: inlineUserSchema.optional() }).strict().optional(),
      })
      .strict()
      // The tag total spans the default content and every variant: one template is parsed as a whole.
      .superRefine((t, ctx) => refuseTooManyTags({ content: t.content, locales: t.locales }, ctx))
      .superRefine((t, ctx) => {
        const merged = mergeVariants(t.content, t.locales);
        const seen = new Set<string>();
        for (const [locale, variant] of Object.entries(t.locales)) {
          const norm = normalizeLocale(locale);
          if (seen.has(norm))
            ctx.addIssue({
              code: 'custom',
              path: ['locales', locale],
              message: `locale ${locale} is given twice`,
            });
          seen.add(norm);
          if (t.defaultLocale !== undefined && norm === normalizeLocale(t.defaultLocale)) {
            ctx.addIssue({
              code: 'custom',
              path: ['locales', locale],
              message: "the default locale's text is `content`, not a variant",
            });
          }
          // A variant translates the default; it cannot add a channel the default does not send on.
          for (const channel of Object.keys(variant)) {
            if (t.content[channel as keyof ChannelContents] === undefined) {
              ctx.addIssue({
                code: 'custom',
                path: ['locales', locale, channel],
                message: `channel ${channel} is not in the default content`,
              });
              continue;
            }
            // With what it inherits, the variant must be complete content (an e-mail still needs html or text).
            const whole = channelContentSchema(channel, plugins)?.safeParse(
              merged.get(norm)?.[channel as keyof ChannelContents],
            );
            for (const issue of !whole || whole.success ? [] : whole.error.issues)
              ctx.addIssue({
                code: 'custom',
                path: ['locales', locale, channel, ...issue.path.map(String)],
                message: issue.message,
              });
          }
        }
      })
  );
}

export const publishTemplateSchema = buildPublishTemplateSchema();
export type PublishTemplate = z.infer<typeof publishTemplateSchema>;

/** `POST /v1/templates/:key/preview`. */
export function buildPreviewSchema(plugins: readonly PluginChannel[] = []) {
  const channels = [...CORE_CHANNELS, ...plugins.map((p) => p.channel)] as [string, ...string[]];
  return z
    .object({
      version: z.number().int().positive().max(999_999_999).optional(),
      userId: userIdParam.optional(),
      user: inlineUserSchema.optional(),
      locale: localeTag.optional(),
      data: data.default({}),
      channels: z.array(z.enum(channels)).min(1).optional(),
    })
    .strict()
    .refine((p) => p.userId === undefined || p.user === undefined, {
      message: 'give userId or user, not both',
      path: ['user'],
    });
}

export const previewSchema = buildPreviewSchema();
export type PreviewRequest = z.infer<typeof previewSchema>;

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    after: templateKeyParam.optional(),
    includeArchived: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .strict();

/** `pt_BR`, `PT-br` and `pt-BR` are one locale. */
export function normalizeLocale(tag: string): string {
  return tag.replace(/_/g, '-').toLowerCase();
}
