import { stdSerializers } from 'pino';

/** The field of a database error that carries a statement's values: user data, often megabytes of it. */
const VALUES = 'parameters';

function withoutValues(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => withoutValues(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== VALUES) out[key] = withoutValues(v, depth + 1);
  }
  return out;
}

/**
 * pino's error serializer, minus the values of failed statements: TypeORM's QueryFailedError
 * carries every parameter of the statement (with group commit, other requests' data too). The
 * message, SQLSTATE code, detail and the query text stay.
 */
export function serializeError(error: Error): unknown {
  return withoutValues(stdSerializers.err(error), 0);
}

export const logSerializers = { err: serializeError };
