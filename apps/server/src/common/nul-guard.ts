import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

const NUL = '\u0000';

/**
 * The path of the first string or key in `value` that holds U+0000, or undefined. PostgreSQL's
 * text and jsonb cannot store that character, so such input would fail at the database.
 */
export function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNul(item, `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key.includes(NUL)) return `${path}.${key.replaceAll(NUL, '\\u0000')}`;
    const found = findNul(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * A body can only carry U+0000 as JSON's `\u0000` escape or a form's `%00`: without either in the
 * raw text there is nothing to look for, and the common request costs one substring search.
 */
function bodyMayHoldNul(request: FastifyRequest): boolean {
  const raw = request.rawBody;
  return raw === undefined || raw.includes('\\u0000') || raw.includes('%00');
}

/**
 * Refuses input holding U+0000 anywhere (path parameters, query, body) with a 400 naming where,
 * before any handler runs. Without it such a request failed at PostgreSQL as a 500, and with it
 * every other request that shared its group-commit statement.
 */
export function registerNulGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', async (request) => {
    const found =
      findNul(request.params, 'params') ??
      findNul(request.query, 'query') ??
      (bodyMayHoldNul(request) ? findNul(request.body, 'body') : undefined);
    if (found === undefined) return;
    const message = 'may not contain the NUL character (U+0000)';
    throw new ApiError(400, 'invalid_request', `invalid input: ${found}: ${message}`, [
      { path: found, message },
    ]);
  });
}
