import { z } from 'zod';

/**
 * A config string that must never be logged. The host redacts every key whose schema
 * carries this marker before it prints configuration.
 */
export function secret(): z.ZodString {
  return z.string().min(1).meta({ secret: true });
}

export function isSecretSchema(schema: unknown): boolean {
  if (!(schema instanceof z.ZodType)) return false;
  let inner: z.ZodType = schema;
  // Unwrap optional/default so `secret().optional()` is still recognised.
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault || inner instanceof z.ZodNullable) {
    inner = inner.unwrap() as z.ZodType;
  }
  return inner.meta()?.secret === true || schema.meta()?.secret === true;
}
