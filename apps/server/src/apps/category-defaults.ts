import { z } from 'zod';

/**
 * Per-app default for a category when a user said nothing: `opt_out` (sent unless the user
 * turned it off; the default for unlisted categories) or `opt_in` (sent only to users who
 * turned it on).
 */
export const categoryDefaultsSchema = z.record(
  z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9_.-]+$/i, 'letters, digits, _ . - only'),
  z.enum(['opt_in', 'opt_out']),
);

export type CategoryDefaults = z.infer<typeof categoryDefaultsSchema>;
