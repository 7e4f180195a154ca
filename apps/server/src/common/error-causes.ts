/** An error as pg, pg-pool and TypeORM throw it: a SQLSTATE or socket code, a message, wrapped causes. */
interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  errors?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

/**
 * Whether `error`, or an error it wraps (TypeORM's `driverError`, a `cause`, an AggregateError's
 * `errors`), matches. Drivers and ORMs wrap what the database said, and the code that matters is
 * often a level or two down. Bounded in depth, so a cycle of causes ends.
 */
export function anyCause(error: unknown, match: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (depth > 6 || typeof error !== 'object' || error === null) return false;
  const e = error as ErrorLike;
  return (
    match(e) ||
    anyCause(e.driverError, match, depth + 1) ||
    anyCause(e.cause, match, depth + 1) ||
    (Array.isArray(e.errors) && e.errors.some((inner) => anyCause(inner, match, depth + 1)))
  );
}
