import { HttpException } from '@nestjs/common';

/**
 * The one error shape every endpoint answers with: `{error: {code, message, details}}`.
 * `details` is always there (an empty list when there is nothing to add), so clients need no guard.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: string,
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
