import { AsyncLocalStorage } from 'node:async_hooks';
import twilio from 'twilio';
import type BaseRequestClient from 'twilio/lib/base/RequestClient';
import type { TwilioAppConfig } from './config';

const TWILIO_API = 'https://api.twilio.com';

/**
 * twilio-node's exceptions drop the response headers, so a 429's Retry-After would be lost.
 * The request client notes it in the calling send's async context instead (sends run
 * concurrently, so a shared "last response" would mix them up).
 */
export const responseNotes = new AsyncLocalStorage<{ retryAfter?: string }>();

/**
 * twilio-node builds absolute `https://api.twilio.com/…` URIs; this RequestClient rewrites the
 * origin to the configured one (the sandbox, a proxy) before the request goes out. It is the
 * redirect twilio-node's maintainers suggest (PR #326), unlike patching `client.api.baseUrl`.
 */
class RedirectingRequestClient extends twilio.RequestClient {
  constructor(
    private readonly origin: string,
    options: { timeout: number; maxSockets: number },
  ) {
    super({ timeout: options.timeout, keepAlive: true, maxSockets: options.maxSockets });
  }

  override async request<TData>(opts: BaseRequestClient.RequestOptions<TData>) {
    const uri = opts.uri.startsWith(TWILIO_API) ? this.origin + opts.uri.slice(TWILIO_API.length) : opts.uri;
    const response = await super.request<TData>({ ...opts, uri });
    const retryAfter = response.headers?.['retry-after'];
    const notes = responseNotes.getStore();
    if (notes && response.statusCode >= 400 && retryAfter !== undefined)
      notes.retryAfter = String(retryAfter);
    return response;
  }
}

export interface TransportOptions {
  baseUrl: string;
  timeoutMs: number;
  maxSockets: number;
}

/** One twilio-node client per account (or API key): it owns the keep-alive sockets. */
export function createTwilioClient(credentials: TwilioAppConfig, transport: TransportOptions): twilio.Twilio {
  const origin = transport.baseUrl.replace(/\/+$/, '');
  const httpClient = new RedirectingRequestClient(origin, {
    timeout: transport.timeoutMs,
    maxSockets: transport.maxSockets,
  });
  const [user, pass] =
    credentials.apiKeySid && credentials.apiKeySecret
      ? [credentials.apiKeySid, credentials.apiKeySecret]
      : [credentials.accountSid, credentials.authToken ?? ''];
  // autoRetry stays off: the plugin runtime's backoff and queue pause own retries.
  return twilio(user, pass, {
    accountSid: credentials.accountSid,
    httpClient,
    timeout: transport.timeoutMs,
    autoRetry: false,
  });
}
