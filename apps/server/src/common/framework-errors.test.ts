import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countRows } from '../testing/db';
import { basic, type Harness, startHarness, type TestApp } from '../testing/harness';
import { rawHttp } from '../testing/raw-http';

const TABLES = ['apps', 'api_keys', 'users', 'contacts', 'notifications', 'deliveries', 'event_ids'];

/**
 * Requests refused by Node's HTTP parser or Fastify's router and body parsers never reach a
 * route; they must still answer with a 4xx in the documented shape, and change nothing.
 */
describe('requests refused before any route: the documented error shape and the right 4xx', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'fwerrors', role: 'api' });
    app = await h.createApp();
  });
  after(() => h.close());

  const auth = () => basic(app.appKey, app.appSecret);
  const post = (path: string, headers: string, body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth()}\r\n${headers}Connection: close\r\n\r\n${body}`;

  const cases: [what: string, request: () => string, status: number, code: string][] = [
    [
      'a path parameter over 1,024 characters',
      () =>
        `GET /v1/users/${'a'.repeat(2000)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth()}\r\nConnection: close\r\n\r\n`,
      414,
      'uri_too_long',
    ],
    [
      'a URL over 16 KB',
      () => `GET /v1/users/x?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      431,
      'headers_too_large',
    ],
    [
      'a header over 16 KB',
      () =>
        `GET /v1/users/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      431,
      'headers_too_large',
    ],
    [
      'bad percent-encoding in the path',
      () =>
        `GET /v1/users/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth()}\r\nConnection: close\r\n\r\n`,
      400,
      'invalid_request',
    ],
    [
      'an unknown method',
      () => `FOO /v1/users/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      400,
      'invalid_request',
    ],
    [
      'a method the route does not have',
      () =>
        `PATCH /v1/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth()}\r\nConnection: close\r\n\r\n`,
      404,
      'not_found',
    ],
    [
      'a Content-Length that is not a number',
      () => post('/v1/notifications', 'Content-Type: application/json\r\nContent-Length: abc\r\n', '{}'),
      400,
      'invalid_request',
    ],
    [
      'broken chunked encoding',
      () =>
        post(
          '/v1/notifications',
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n',
          'zz\r\n',
        ),
      400,
      'invalid_request',
    ],
    ['not an HTTP request at all', () => '\u0000\u0001garbage\r\n\r\n', 400, 'invalid_request'],
    [
      'invalid JSON',
      () => post('/v1/notifications', 'Content-Type: application/json\r\nContent-Length: 5\r\n', '{"a":'),
      400,
      'invalid_request',
    ],
    [
      'a text/plain body',
      () => post('/v1/notifications', 'Content-Type: text/plain\r\nContent-Length: 2\r\n', 'hi'),
      415,
      'unsupported_media_type',
    ],
    [
      'a body without a content type',
      () => post('/v1/notifications', 'Content-Length: 2\r\n', 'hi'),
      415,
      'unsupported_media_type',
    ],
    [
      'a body over 5 MB',
      () => post('/v1/notifications', 'Content-Type: application/json\r\nContent-Length: 6000000\r\n', '{}'),
      413,
      'payload_too_large',
    ],
    [
      'an unsubscribe token that is garbage',
      () =>
        `POST /v1/unsubscribe?token=garbage HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      400,
      'invalid_token',
    ],
    [
      'no app key',
      () => `GET /v1/users/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      401,
      'unauthorized',
    ],
    [
      'an unknown route',
      () => `GET /v1/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      404,
      'not_found',
    ],
  ];

  for (const [what, request, status, code] of cases) {
    test(`${what} → ${status} ${code}`, async () => {
      const before = await countRows(h.db.url, TABLES);
      const res = await rawHttp(h.url, request());
      assert.equal(res.status, status, res.body);
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      const body = JSON.parse(res.body) as {
        error?: { code?: unknown; message?: unknown; details?: unknown };
      };
      assert.equal(body.error?.code, code, res.body);
      // The README promises `details` on every error: an empty list when there is nothing to add.
      assert.ok(body.error?.details !== undefined, `details present: ${res.body}`);
      assert.equal(typeof body.error?.message, 'string');
      assert.ok(String(body.error?.message ?? '').length > 0);
      assert.deepEqual(await countRows(h.db.url, TABLES), before);
    });
  }

  test('invalid JSON names where the parser stopped, as a path-level entry in details', async () => {
    const before = await countRows(h.db.url, TABLES);
    // The parser's own message: the bad token, and where it stopped when it can tell.
    for (const [text, message] of [
      ['{"to": {"userId": "a"}, "category": x}', /Unexpected token 'x'/],
      ['{"to": {"userId": "a"},}', /position 23/],
    ] as const) {
      const res = await app.call('/v1/notifications', { body: text });
      assert.equal(res.status, 400);
      const body = (await res.json()) as {
        error: { code: string; details: { path: string; message: string }[] };
      };
      assert.equal(body.error.code, 'invalid_request');
      assert.equal(body.error.details.length, 1, JSON.stringify(body));
      assert.equal(body.error.details[0]!.path, 'body');
      assert.match(body.error.details[0]!.message, message);
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
  });

  test('the server still answers normally afterwards', async () => {
    assert.equal((await app.call('/v1/users/nobody')).status, 404);
  });
});
