import { ApiError } from '../api-error';
import { DomainError } from './domain-error';
import { type ErrorCode, httpStatusOf } from './error-catalog';

/** The documented error body: `details` is always there (an empty list when there is nothing to add). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: unknown };
}

export function errorBody(code: ErrorCode, message: string, details: unknown = []): ErrorBody {
  return { error: { code, message, details } };
}

/** A domain error as the API answers it: the status comes from the catalog, here at the edge. */
export function domainErrorAnswer(error: DomainError): { status: number; body: ErrorBody } {
  return { status: httpStatusOf(error.code), body: errorBody(error.code, error.message, error.details) };
}

/**
 * The status and message the API answers a deliberate refusal with (an ApiError of the edge or a
 * DomainError); undefined for anything else (a bug, a lost connection), which callers rethrow.
 */
export function refusalOf(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof DomainError) return { status: httpStatusOf(error.code), message: error.message };
  if (error instanceof ApiError) {
    const body = error.getResponse() as ErrorBody;
    return { status: error.getStatus(), message: body.error.message };
  }
  return undefined;
}
