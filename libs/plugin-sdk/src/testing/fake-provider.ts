import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received, body read in full. */
export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the body is JSON. */
  json: unknown;
  at: number;
}

/** An answer of the fake: status, headers, body (an object is sent as JSON). */
export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | object;
}

/** What the fake does with a request: answer it, or never answer (a timeout for the client). */
export type FakeBehaviour = FakeAnswer | { hang: true };

/** HTTP 429 with `Retry-After: <seconds>`, as most providers throttle. */
export function tooManyRequests(
  retryAfterSeconds: number,
  body: string | object = { error: 'rate_limited' },
): FakeAnswer {
  return { status: 429, headers: { 'retry-after': String(retryAfterSeconds) }, body };
}

/** A 5xx from the provider (default 503 Service Unavailable). */
export function serverError(status = 503, body: string | object = { error: 'unavailable' }): FakeAnswer {
  return { status, body };
}

/** No answer at all: the connection stays open until the client gives up (its timeout). */
export function hang(): FakeBehaviour {
  return { hang: true };
}

export interface FakeProvider {
  /** `http://127.0.0.1:<port>`: point the plugin's endpoint setting at it. */
  url: string;
  requests: FakeRequest[];
  /**
   * The next requests get these answers, in order, before `answer` takes over again:
   * `fake.failNext(tooManyRequests(1))`, `fake.failNext(serverError(), serverError())`, `fake.failNext(hang())`.
   */
  failNext(...behaviours: FakeBehaviour[]): void;
  /** Forgets recorded requests and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A fake of a provider's HTTP API for a plugin's tests: records every request, answers with
 * `answer` (check what the real provider checks there: auth headers, required fields), and plays
 * scripted failures (429 with Retry-After, 5xx, a hang) so the plugin's classification of each is
 * tested against real sockets.
 */
export async function startFakeProvider(answer: (req: FakeRequest) => FakeAnswer): Promise<FakeProvider> {
  const requests: FakeRequest[] = [];
  let pending: FakeBehaviour[] = [];
  const hanging = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json,
        at: Date.now(),
      };
      requests.push(request);
      const behaviour = pending.shift() ?? answer(request);
      if ('hang' in behaviour) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const text =
        typeof behaviour.body === 'object' ? JSON.stringify(behaviour.body) : (behaviour.body ?? '');
      res.writeHead(behaviour.status, {
        ...(typeof behaviour.body === 'object' ? { 'content-type': 'application/json' } : {}),
        ...behaviour.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (...behaviours) => {
      pending.push(...behaviours);
    },
    reset: () => {
      requests.length = 0;
      pending = [];
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
