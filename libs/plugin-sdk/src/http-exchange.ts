import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** An HTTP answer read to its end. */
export interface HttpAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The body, or empty when the exchange was asked not to keep it. */
  body: Buffer;
}

export interface ExchangeOptions {
  /**
   * Keep the body (a provider's JSON answer). `false` drops it as it arrives (a receiver's reply
   * nobody reads) and, past `maxBodyBytes`, closes the connection and answers with the status
   * alone, as undici's `body.dump()` does: a receiver streaming without end cannot hold the send.
   */
  keepBody?: boolean;
  /** Body bytes read at most. Kept bodies over it fail the exchange. Default 1 MiB kept, 128 KiB dropped. */
  maxBodyBytes?: number;
}

const KEPT_BODY_LIMIT = 1024 * 1024;
/** undici's own `dump()` default. */
const DROPPED_BODY_LIMIT = 128 * 1024;

/** A kept body over `maxBodyBytes`. */
export class AnswerTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer's body is over ${limit} bytes`);
  }
}

/**
 * One request through an undici dispatcher (Pool, Agent, Client) by its handler API, settled when
 * the answer's body has ended. undici's `request()` runs the same dispatch, and adds an
 * AsyncResource and a Readable body stream per request: for the small answers a provider sends,
 * that was 4–15 % (HTTP/2, FCM's fake) to 17–27 % (HTTP/1.1, a webhook receiver) of the client's
 * CPU per send (bench/src/http-exchange-floor.ts, docs/benchmarks.md session 11). Failures are undici's own errors
 * (HeadersTimeoutError, BodyTimeoutError, SocketError, a connector's refusal), as `request()`
 * rejects with them. Informational (1xx) answers are skipped.
 */
export function exchange(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  { keepBody = true, maxBodyBytes }: ExchangeOptions = {},
): Promise<HttpAnswer> {
  const limit = maxBodyBytes ?? (keepBody ? KEPT_BODY_LIMIT : DROPPED_BODY_LIMIT);
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let bytes = 0;
    const answer = () => ({
      statusCode,
      headers,
      body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
    });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    dispatcher.dispatch(options, {
      // undici requires it; nothing to do at the start.
      onRequestStart() {},
      onResponseStart(_controller, code, responseHeaders) {
        if (code < 200) return;
        statusCode = code;
        headers = responseHeaders;
      },
      onResponseData(controller, chunk) {
        if (statusCode === 0) return;
        bytes += chunk.length;
        if (bytes > limit) {
          if (keepBody) settle(() => reject(new AnswerTooLargeError(limit)));
          else settle(() => resolve(answer()));
          controller.abort(new AnswerTooLargeError(limit));
          return;
        }
        if (keepBody) chunks.push(chunk);
      },
      onResponseEnd() {
        settle(() => resolve(answer()));
      },
      onResponseError(_controller, error) {
        settle(() => reject(error));
      },
    });
  });
}
