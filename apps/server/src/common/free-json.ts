import { z } from 'zod';
import { findJsonProblem } from './json-walk';

/** How deep a free-form value (`data`, `attributes`, `webhook.json`…) may nest below its field. */
export const MAX_JSON_DEPTH = 32;

/** Size caps of free-form values, as compact JSON in UTF-8 bytes. */
export const JSON_LIMITS = {
  /** A notification's `data`, a preview's or a template sample's `data`. */
  data: 64 * 1024,
  /** A user's `attributes`. */
  attributes: 64 * 1024,
  /** `content.webhook.json`. */
  webhookJson: 256 * 1024,
  /** A provider integration's `config`. */
  integrationConfig: 64 * 1024,
  /** A merge patch of an app's settings (checked before it is merged). */
  settingsPatch: 64 * 1024,
} as const;

/**
 * Refuses a value nested deeper than MAX_JSON_DEPTH or larger than `maxBytes`, or holding text
 * PostgreSQL cannot store. Checked before anything recurses into the value (rendering, hashing,
 * JSON.stringify), so a hostile value fails its own request with a 400 instead of the stack.
 */
function checkFreeJson(maxBytes: number) {
  return (value: unknown, ctx: z.RefinementCtx) => {
    const problem = findJsonProblem(value, '', MAX_JSON_DEPTH);
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        message: problem.path ? `${problem.path.slice(1)}: ${problem.message}` : problem.message,
      });
      return;
    }
    const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
    if (bytes > maxBytes)
      ctx.addIssue({ code: 'custom', message: `${bytes} bytes as JSON, over the ${maxBytes}-byte limit` });
  };
}

/** Any JSON value, bounded in depth and size. */
export const freeJson = (maxBytes: number) => z.unknown().superRefine(checkFreeJson(maxBytes));

/** A JSON object of any values, bounded in depth and size. */
export const freeRecord = (maxBytes: number) =>
  z.record(z.string(), z.unknown()).superRefine(checkFreeJson(maxBytes));
