import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import type { SmtpConfig } from './config';

export type PooledTransport = Transporter<SMTPPool.SentMessageInfo>;

/** One pooled nodemailer transport per server and account: connections are opened once and reused. */
export function createPooledTransport(
  server: Pick<SmtpConfig, 'host' | 'port' | 'secure' | 'requireTls' | 'user' | 'pass'> & Partial<SmtpConfig>,
): PooledTransport {
  const options: SMTPPool.Options = {
    pool: true,
    host: server.host,
    port: server.port,
    secure: server.secure,
    requireTLS: server.requireTls,
    ignoreTLS: server.ignoreTls ?? false,
    tls: { rejectUnauthorized: server.rejectUnauthorized ?? true, ...(server.ca ? { ca: server.ca } : {}) },
    ...(server.user ? { auth: { user: server.user, pass: server.pass ?? '' } } : {}),
    maxConnections: server.maxConnections ?? 5,
    maxMessages: server.maxMessages ?? 100,
    // nodemailer would silently requeue a message whose connection closed (up to 5 times, with
    // delays): the runtime's backoff owns retries, so the failure is reported and counted instead.
    maxRequeues: 0,
    connectionTimeout: server.timeoutMs ?? 30_000,
    greetingTimeout: server.timeoutMs ?? 30_000,
    socketTimeout: server.timeoutMs ?? 30_000,
  };
  return nodemailer.createTransport(options);
}
