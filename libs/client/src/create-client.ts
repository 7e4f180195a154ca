import { randomUUID } from 'node:crypto';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from './openapi';

export interface ClarionClientOptions {
  /** Where the server listens, e.g. `https://clarion.example.com` (no trailing path). */
  baseUrl: string;
  /** A server key's id and secret, sent as HTTP Basic on every request (the `/v1` routes). */
  appKey?: string;
  appSecret?: string;
  /** The admin token, sent as a Bearer token instead of Basic (the `/admin` routes). */
  adminToken?: string;
  /**
   * Give every POST, PUT, PATCH and DELETE without one an `Idempotency-Key` (a random UUID), so a
   * request a proxy or the runtime repeats acts once. Pass your own key in `headers` to make your
   * retries after a timeout idempotent too.
   */
  idempotencyKeys?: boolean;
  /** Another fetch (tests, proxies, instrumentation). */
  fetch?: typeof globalThis.fetch;
}

export type ClarionClient = Client<paths>;

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A client typed by the server's OpenAPI document: paths, parameters, bodies and answers. */
export function createClarionClient(options: ClarionClientOptions): ClarionClient {
  const headers: Record<string, string> = {};
  if (options.adminToken) headers.authorization = `Bearer ${options.adminToken}`;
  else if (options.appKey !== undefined && options.appSecret !== undefined)
    headers.authorization = `Basic ${Buffer.from(`${options.appKey}:${options.appSecret}`).toString('base64')}`;
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.idempotencyKeys) client.use(idempotencyKeys);
  return client;
}

const idempotencyKeys: Middleware = {
  onRequest({ request }) {
    if (UNSAFE.has(request.method) && !request.headers.has('idempotency-key'))
      request.headers.set('idempotency-key', randomUUID());
    return request;
  },
};

/** Headers for one call with your own idempotency key: `client.POST(path, { body, headers: idempotent(key) })`. */
export function idempotent(key: string): { 'Idempotency-Key': string } {
  return { 'Idempotency-Key': key };
}
