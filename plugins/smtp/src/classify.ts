import { InvalidAddressError, PermanentError, RetryableError, type SendError } from '@clarion/plugin-sdk';

/** The fields nodemailer puts on its errors (dist/cjs/errors.js, smtp-connection). */
interface NodemailerError {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  rejected?: string[];
  permanent?: boolean;
}

const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EOAUTH2']);
const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
]);

/**
 * A refused recipient (RCPT TO answered 5xx) → invalid address; bad credentials, TLS or
 * "must STARTTLS" (530) → configuration; 4xx (421, 450, 451…) and connection trouble → retry;
 * any other 5xx (the message refused at MAIL FROM or DATA) → permanent.
 */
export function classifySmtpError(error: unknown): SendError {
  const e = (error ?? {}) as NodemailerError;
  const status = e.responseCode;
  const code = e.code ?? (status !== undefined ? String(status) : 'unknown');
  const message = `SMTP ${status ?? code}: ${(e.response ?? e.message ?? String(error)).slice(0, 300)}`;
  const options = { code, ...(status !== undefined ? { status } : {}), cause: error };
  // An untrusted or mismatched server certificate will not fix itself: it is ours to fix.
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(e.message ?? ''))
    return new PermanentError(message, { ...options, configuration: true });
  if (e.code !== undefined && CONFIGURATION_CODES.has(e.code))
    return new PermanentError(message, { ...options, configuration: true });
  if (status === 530 || status === 535 || status === 534)
    return new PermanentError(message, { ...options, configuration: true });
  if (status !== undefined && status >= 400 && status < 500) return new RetryableError(message, options);
  if (e.code === 'EENVELOPE' && status !== undefined && status >= 500 && (e.rejected?.length ?? 0) > 0) {
    return new InvalidAddressError(message, { ...options, reason: 'invalid' });
  }
  if (status !== undefined && status >= 500) {
    // 503 is "bad sequence of commands": a client/server state problem worth another try.
    return status === 503 ? new RetryableError(message, options) : new PermanentError(message, options);
  }
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return new RetryableError(message, options);
  return new RetryableError(message, options);
}
