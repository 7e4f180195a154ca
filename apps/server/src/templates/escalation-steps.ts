import { z } from 'zod';
import { durationMs } from '../common/duration';

/** The longest wait a later step may give: a step is a reminder, not a schedule. */
export const MAX_STEP_WAIT_MS = 7 * 24 * 3600 * 1000;

/** What a later step may wait for: a delivery of the notification to the same user reached it. */
export const ENGAGEMENTS = ['delivered', 'opened', 'clicked'] as const;
export type Engagement = (typeof ENGAGEMENTS)[number];

const after = z
  .string()
  .refine(
    (s) => durationMs(s) !== undefined,
    'a duration: a whole number and s, m, h or d ("90s", "10m", "2h")',
  )
  .refine((s) => (durationMs(s) ?? 0) <= MAX_STEP_WAIT_MS, 'at most 7 days')
  .describe('how long after the notification is due this step runs ("10m"); the first step has none');

/**
 * `steps`: the channels as an ordered escalation (docs/escalation.md). The first step goes out
 * as `channels` would; each later one is planned `after` the notification is due, unless a
 * delivery of it to the same user has reached a status named in `unless` by then.
 */
export function buildStepsSchema(channel: z.ZodType<string>) {
  const step = z
    .object({
      channel,
      after: after.optional(),
      unless: z
        .array(z.enum(ENGAGEMENTS))
        .min(1)
        .refine((u) => new Set(u).size === u.length, 'each status once')
        .optional()
        .describe(
          'skip this step (recorded as suppressed, reason `engaged`) once a delivery reached one of these',
        ),
    })
    .strict();
  return z
    .array(step)
    .min(2)
    .max(5)
    .superRefine((steps, ctx) => {
      if (steps[0]?.after !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [0, 'after'],
          message: 'the first step goes out at once: no after',
        });
      if (steps[0]?.unless !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [0, 'unless'],
          message: 'the first step has nothing to wait for',
        });
      let previous = 0;
      steps.forEach((s, i) => {
        if (i === 0) return;
        const ms = s.after === undefined ? undefined : durationMs(s.after);
        if (s.after === undefined)
          ctx.addIssue({ code: 'custom', path: [i, 'after'], message: 'a later step needs after' });
        else if (ms !== undefined && ms < previous)
          ctx.addIssue({
            code: 'custom',
            path: [i, 'after'],
            message: 'steps are in order: after may not be shorter than the previous step’s',
          });
        if (ms !== undefined) previous = ms;
      });
    });
}

/** One step as the request gives it. */
export interface NotificationStep {
  channel: string;
  after?: string | undefined;
  unless?: Engagement[] | undefined;
}
