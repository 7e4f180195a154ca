import { z } from 'zod';

const category = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_.-]+$/i, 'letters, digits, _ . - only');

/**
 * One per-user frequency cap, set in app settings: at most `max` deliveries of `channel`
 * (and, when given, of `category`) per user per `perSeconds`. Windows are fixed and aligned
 * to the epoch (an hour cap resets on the UTC hour) so a deferred delivery can reserve a slot
 * in a later window.
 */
export const capRuleSchema = z
  .object({
    /** A channel (`push`, `email` …) or `*`: every channel counted together. */
    channel: z
      .string()
      .min(1)
      .max(50)
      .regex(/^(\*|[a-z][a-z0-9-]*)$/, 'a channel name or *'),
    /** Only notifications of this category count and are capped; absent: every non-critical category. */
    category: category.optional(),
    max: z.number().int().min(1).max(1_000_000),
    perSeconds: z
      .number()
      .int()
      .min(1)
      .max(31 * 24 * 3600),
    /** Over the cap: `suppress` (reason `rate_limited`) or `defer` to the next window with room (a delayed job). */
    overflow: z.enum(['suppress', 'defer']).default('suppress'),
  })
  .strict();

export type CapRule = z.infer<typeof capRuleSchema>;

/** Per-app API quota overriding CLARION_API_QUOTA / CLARION_API_QUOTA_WINDOW_SECONDS. */
export const apiQuotaSchema = z
  .object({
    limit: z.number().int().min(1).max(10_000_000),
    windowSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600),
  })
  .strict();

export type ApiQuotaSetting = z.infer<typeof apiQuotaSchema>;

/** Stable id of a rule's content: editing a rule starts fresh counters instead of reusing another rule's. */
export function capRuleId(rule: CapRule): string {
  return `${rule.channel}|${rule.category ?? '*'}|${rule.max}|${rule.perSeconds}`;
}

/** The app's caps that count a delivery of `channel` for `category`. */
export function matchingCaps(rules: readonly CapRule[], channel: string, category: string | null): CapRule[] {
  return rules.filter(
    (r) =>
      (r.channel === '*' || r.channel === channel) && (r.category === undefined || r.category === category),
  );
}
