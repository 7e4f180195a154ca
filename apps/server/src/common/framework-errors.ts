import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors/error-answer';
import type { ErrorCode } from './errors/error-catalog';

/**
 * Errors Fastify's router raises before a route (or Nest's error filter) is reached: a path that
 * is not valid percent-encoding, and a path parameter longer than the router's limit.
 */
export function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(errorBody('uri_too_long', 'a path segment is longer than 1,024 characters'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply
      .status(400)
      .send(errorBody('invalid_request', 'the URL is not valid: a % must be followed by UTF-8 in hex'));
    return;
  }
  const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 400;
  void reply.status(status).send(errorBody('invalid_request', 'the request could not be routed'));
}

/** Node's HTTP parser errors, by code: status, error code and message. */
function clientErrorAnswer(code: string | undefined): [number, ErrorCode, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return [408, 'timeout', 'the request was not received in time'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'the request line and headers exceed 16 KB'];
    case 'HPE_INVALID_METHOD':
      return [400, 'invalid_request', 'unknown HTTP method'];
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'invalid_request', 'invalid Content-Length'];
    case 'HPE_INVALID_CHUNK_SIZE':
      return [400, 'invalid_request', 'invalid chunked encoding'];
    default:
      return [400, 'invalid_request', 'malformed HTTP request'];
  }
}

/**
 * Answers a request Node's HTTP parser refused (no Fastify request exists yet) with the documented
 * shape, then closes the connection: after a parse error nothing more on it can be trusted.
 */
export function onClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = clientErrorAnswer(error.code);
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
