import { z } from 'zod';
import { ANY } from '../contacts/preference-rules';
import { HHMM } from '../contacts/quiet-hours';

const category = z
  .string()
  .min(1)
  .max(100)
  .regex(/^(\*|[a-z0-9_.-]+)$/i, 'a category (letters, digits, _ . -) or *');

/** `enabled: null` forgets the rule (back to the more general rule or the app's default). */
const ruleSchema = z
  .object({
    channel: z.string().min(1).max(50),
    category: category.default(ANY),
    enabled: z.boolean().nullable(),
  })
  .strict();

const quietHoursSchema = z
  .object({
    start: z.string().regex(HHMM, 'HH:MM, 24-hour (e.g. 22:00)'),
    end: z.string().regex(HHMM, 'HH:MM, 24-hour (e.g. 07:00)'),
    /** Only these categories are held; absent or null: every non-critical notification. */
    categories: z
      .array(category.refine((c) => c !== ANY, 'list categories, or leave the field out for all'))
      .min(1)
      .max(100)
      .nullable()
      .optional(),
  })
  .strict()
  .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] });

/**
 * PUT /v1/users/:id/preferences. Listed rules are set (or forgotten with `enabled: null`);
 * rules not listed stay as they are. `quietHours` replaces the window (null removes it).
 */
export const putPreferencesSchema = z
  .object({
    rules: z.array(ruleSchema).max(200).optional(),
    quietHours: quietHoursSchema.nullable().optional(),
  })
  .strict()
  .refine((b) => b.rules !== undefined || b.quietHours !== undefined, {
    message: 'give rules, quietHours or both',
  })
  .refine(
    (b) =>
      new Set((b.rules ?? []).map((r) => `${r.channel}\u0000${r.category}`)).size === (b.rules ?? []).length,
    { message: 'each (channel, category) may appear once', path: ['rules'] },
  );

export type PutPreferences = z.infer<typeof putPreferencesSchema>;
