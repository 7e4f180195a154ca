import { exchange, type HttpAnswer } from '@clarion/plugin-sdk';
import { errors, Pool } from 'undici';
import { PLUGIN_VERSION } from './version';

/** What @sendgrid/mail's MailService asks of its client: one request, answered [response, body]. */
export interface MailRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}
export interface MailResponse {
  statusCode: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** The shape of @sendgrid/client's ResponseError that classifySendgridError reads. */
export class SendgridResponseError extends Error {
  readonly response: { headers: MailResponse['headers']; body: unknown };
  constructor(
    readonly code: number,
    headers: MailResponse['headers'],
    body: unknown,
  ) {
    super(`SendGrid answered ${code}`);
    this.response = { headers, body };
  }
}

/** A network error, its code as axios spelled timeouts (classifySendgridError maps them to `timeout`). */
class SendgridNetworkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

const TIMEOUTS = [errors.HeadersTimeoutError, errors.BodyTimeoutError, errors.ConnectTimeoutError];

/**
 * SendGrid's HTTP client, on one undici keep-alive pool per API origin shared by every API key
 * (the key travels in each request's header). It replaces @sendgrid/client's axios stack, which
 * the campaign profile found at about 15 % of the worker's CPU (axios, follow-redirects and a
 * node:http request per mail) and a large share of its promoted garbage. MailService still builds
 * and checks the body; this only carries it.
 */
export class SendgridTransport {
  constructor(
    private readonly pool: Pool,
    private readonly base: URL,
    private readonly apiKey: string,
  ) {}

  static pool(baseUrl: string, timeoutMs: number): Pool {
    return new Pool(new URL(baseUrl).origin, {
      // Sends beyond 64 at once (the plugin runs 200) wait their turn for a connection.
      connections: 64,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connectTimeout: timeoutMs,
    });
  }

  /** MailService.setTimeout calls it; the pool's timeouts are set where it is made. */
  setDefaultRequest(): this {
    return this;
  }

  async request(request: MailRequest): Promise<[MailResponse, unknown]> {
    let res: HttpAnswer;
    try {
      res = await exchange(this.pool, {
        method: request.method as 'POST',
        path: `${this.base.pathname.replace(/\/$/, '')}${request.url}`,
        // Not request.headers: MailService passes the mail's own headers there too (they travel in the body).
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': `clarion-plugin-sendgrid/${PLUGIN_VERSION}`,
        },
        body: JSON.stringify(request.body),
      });
    } catch (error) {
      throw networkError(error);
    }
    const text = res.body.toString('utf8');
    let body: unknown = text;
    if (text && String(res.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON after all: the text is the body.
      }
    }
    if (res.statusCode >= 400) throw new SendgridResponseError(res.statusCode, res.headers, body);
    return [{ statusCode: res.statusCode, body, headers: res.headers }, body];
  }
}

function networkError(error: unknown): SendgridNetworkError {
  const timeout = TIMEOUTS.some((t) => error instanceof t);
  const code = timeout ? 'ETIMEDOUT' : String((error as { code?: unknown })?.code ?? 'connection');
  return new SendgridNetworkError(code, (error as Error)?.message ?? String(error), { cause: error });
}
