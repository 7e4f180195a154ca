import { anyCause } from './error-causes';

/** Socket errors: the peer (or the network to it) is away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ENETDOWN',
  'ENETRESET',
]);

/**
 * PostgreSQL SQLSTATEs that mean "not now" rather than "wrong request": connection exceptions
 * (class 08), the server shutting down or still starting (57P01–57P03), a session ended for idling
 * (57P05), too many connections (53300).
 */
const RETRYABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|57P05|53300)$/;

/**
 * What pg, pg-pool and Node's sockets say of a lost or unobtainable connection when they carry no
 * code, including PostgreSQL's own words for shutting down or starting when only the text survives.
 */
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|connection is closed|the database system is (shutting down|starting up|in recovery mode|not yet accepting connections)|terminating connection due to administrator command|read ECONNRESET|connect ECONNREFUSED/i;

/**
 * TypeORM's errors for a connection it had to give up on, matched by name so that a second copy of
 * TypeORM (another version in the tree) is recognised too. A transaction whose connection died
 * reports the next query as QueryRunnerProviderAlreadyReleasedError, with no cause attached.
 */
const TYPEORM_CONNECTION_ERRORS = new Set([
  'QueryRunnerProviderAlreadyReleasedError',
  'QueryRunnerAlreadyReleasedError',
  'CannotExecuteNotConnectedError',
  'ConnectionIsNotSetError',
  'CannotGetEntityManagerNotConnectedError',
]);

/**
 * Whether an error means the database (or the network to it) is unavailable for now: the request
 * may well succeed if repeated, so it is a 503, not a 500. Looks through wrapped errors (TypeORM's
 * `driverError`, `cause`, an AggregateError's `errors`).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return anyCause(
    error,
    (e) =>
      (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || RETRYABLE_SQLSTATE.test(e.code))) ||
      (typeof e.name === 'string' && TYPEORM_CONNECTION_ERRORS.has(e.name)) ||
      (typeof e.message === 'string' && CONNECTION_MESSAGES.test(e.message)),
  );
}

/** Seconds a client is told to wait before repeating a request refused for an unavailable database. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
