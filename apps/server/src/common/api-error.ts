import { HttpException } from '@nestjs/common';
import type { ErrorCode } from './errors/error-catalog';

/**
 * An HTTP error raised where the status is the edge's own decision (validation, auth, quotas):
 * `{error: {code, message, details}}`, `details` always there (an empty list when there is nothing
 * to add) so clients need no guard. The code must be in the catalog (common/errors/error-catalog.ts);
 * domain code throws a DomainError instead and leaves the status to the catalog.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: unknown = [],
  ) {
    super({ error: { code, message, details } }, status);
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError(400, 'invalid_request', message, details);
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);
export const unauthorized = (message = 'a valid appKey and appSecret are required') =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
