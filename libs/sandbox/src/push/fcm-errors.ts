/**
 * FCM HTTP v1 error bodies as Google sends them: a google.rpc.Status with the FCM error code in
 * `details[].errorCode` (what firebase-admin and Clarion's plugin read first) and, for a bad
 * token, a BadRequest field violation on `message.token`.
 */
export interface FcmErrorSpec {
  httpStatus: number;
  status: string;
  message: string;
}

/** The FCM `errorCode`s a behaviour rule can name, with the HTTP status and RPC status they come with. */
export const FCM_ERROR_CODES: Readonly<Record<string, FcmErrorSpec>> = {
  UNSPECIFIED_ERROR: {
    httpStatus: 500,
    status: 'INTERNAL',
    message: 'No more information is available about this error.',
  },
  INVALID_ARGUMENT: {
    httpStatus: 400,
    status: 'INVALID_ARGUMENT',
    message: 'The registration token is not a valid FCM registration token',
  },
  UNREGISTERED: { httpStatus: 404, status: 'NOT_FOUND', message: 'Requested entity was not found.' },
  SENDER_ID_MISMATCH: { httpStatus: 403, status: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: {
    httpStatus: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: 'Quota exceeded for quota metric sending rate.',
  },
  UNAVAILABLE: { httpStatus: 503, status: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { httpStatus: 500, status: 'INTERNAL', message: 'Internal error encountered.' },
  THIRD_PARTY_AUTH_ERROR: {
    httpStatus: 401,
    status: 'UNAUTHENTICATED',
    message: 'Auth error from APNS or Web Push Service',
  },
};

export interface FieldViolation {
  field: string;
  description: string;
}

export function fcmErrorBody(
  httpStatus: number,
  status: string,
  message: string,
  errorCode?: string,
  violations: FieldViolation[] = [],
): string {
  const details: Record<string, unknown>[] = [];
  if (errorCode) details.push({ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode });
  if (violations.length > 0)
    details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations });
  return JSON.stringify({
    error: { code: httpStatus, message, status, ...(details.length > 0 ? { details } : {}) },
  });
}

/** An error named by a behaviour rule (`UNREGISTERED`, `QUOTA_EXCEEDED`, …) as Google would send it. */
export function fcmNamedError(code: string): { httpStatus: number; body: string } {
  const spec = FCM_ERROR_CODES[code] ?? FCM_ERROR_CODES.INTERNAL!;
  const violations =
    code === 'INVALID_ARGUMENT' ? [{ field: 'message.token', description: spec.message }] : [];
  return {
    httpStatus: spec.httpStatus,
    body: fcmErrorBody(
      spec.httpStatus,
      spec.status,
      spec.message,
      FCM_ERROR_CODES[code] ? code : 'INTERNAL',
      violations,
    ),
  };
}
