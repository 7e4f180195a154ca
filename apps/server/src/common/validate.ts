import type { z } from 'zod';
import { ApiError } from './api-error';

/** Parses input with a zod schema; a mismatch is a 400 listing every problem by path. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({
      path: [what, ...i.path].join('.'),
      message: i.message,
    }));
    throw new ApiError(
      400,
      'invalid_request',
      `invalid ${what}: ${details[0]?.path}: ${details[0]?.message}`,
      details,
    );
  }
  return parsed.data;
}
