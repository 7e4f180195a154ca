import type { ErrorCode } from './error-catalog';

/**
 * An error the domain raises on purpose, carrying a catalog code and the details a client needs.
 * It knows nothing of HTTP: the edge (error filter, batch items, idempotency) maps its code to a
 * status through the catalog. Subclasses name the kind of failure so callers match by class, not
 * by code strings.
 */
export abstract class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details: unknown = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Something the request names (app, user, template, delivery…) does not exist for this caller. */
export class NotFoundError extends DomainError<'not_found'> {
  constructor(what: string, details: unknown = []) {
    super('not_found', `${what} not found`, details);
  }
}

/** Codes a request that clashes with the current state answers with. */
export type ConflictCode =
  | 'conflict'
  | 'already_canceled'
  | 'already_sent'
  | 'device_taken'
  | 'event_id_conflict'
  | 'limit_reached'
  | 'not_sent';

/** The request is valid but clashes with what is stored (already canceled, taken, over a count). */
export class ConflictError extends DomainError<ConflictCode> {}

/** Codes of a well-formed request the app's own settings refuse. */
export type RefusedCode = 'critical_category' | 'unverified_sender';

/** The request is well-formed, but the app's settings refuse it (a critical category, an unlisted sender). */
export class RefusedError extends DomainError<RefusedCode> {}

/** Input that validation let through but the domain refuses (`invalid_request`). */
export class InvalidInputError extends DomainError<'invalid_request'> {
  constructor(message: string, details: unknown = []) {
    super('invalid_request', message, details);
  }
}
