/** An error as pg, pg-pool and TypeORM throw it: a SQLSTATE or socket code, a message, wrapped causes. */
interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

/**
 * Whether `error`, or an error it wraps (TypeORM's `driverError`, a `cause`), matches. Drivers
 * and ORMs wrap what the database said, and the code that matters is often a level or two down.
 */
export function anyCause(error: unknown, match: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  const e = error as ErrorLike;
  return match(e) || anyCause(e.driverError, match, depth + 1) || anyCause(e.cause, match, depth + 1);
}
