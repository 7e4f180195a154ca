import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createClarionClient, idempotent } from './index';

// A stand-in server that records what each request carried: these tests are about the headers the
// client sends; apps/server/src/ops/typed-client.test.ts runs it against the real server.
const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: '00000000-0000-4000-8000-000000000001', status: 'accepted' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const last = () => seen.at(-1)!;
const body = { to: { userId: 'u1' }, content: { webhook: { json: {} } } };

test('app credentials go as HTTP Basic; a trailing slash on baseUrl is dropped', async () => {
  const client = createClarionClient({ baseUrl, appKey: 'ck_live_1', appSecret: 's3cret' });
  const { data } = await client.POST('/v1/notifications', { body });
  assert.equal(data?.status, 'accepted');
  assert.equal(last().url, '/v1/notifications');
  assert.equal(last().headers.authorization, `Basic ${Buffer.from('ck_live_1:s3cret').toString('base64')}`);
  assert.equal(last().headers['idempotency-key'], undefined, 'no key unless asked');
});

test('the admin token goes as a Bearer token', async () => {
  const client = createClarionClient({ baseUrl, adminToken: 'admin-token' });
  await client.GET('/admin/apps');
  assert.equal(last().headers.authorization, 'Bearer admin-token');
});

test('idempotencyKeys: a fresh key on each POST, PUT and DELETE, none on GET, yours kept', async () => {
  const client = createClarionClient({ baseUrl, appKey: 'k', appSecret: 's', idempotencyKeys: true });
  await client.POST('/v1/notifications', { body });
  const first = last().headers['idempotency-key'];
  await client.POST('/v1/notifications', { body });
  const second = last().headers['idempotency-key'];
  assert.match(String(first), /^[0-9a-f-]{36}$/);
  assert.notEqual(first, second);
  await client.DELETE('/v1/users/{userId}', { params: { path: { userId: 'u1' } } });
  assert.match(String(last().headers['idempotency-key']), /^[0-9a-f-]{36}$/);
  await client.GET('/v1/users/{userId}', { params: { path: { userId: 'u1' } } });
  assert.equal(last().headers['idempotency-key'], undefined);
  await client.POST('/v1/notifications', { body, headers: idempotent('order-42-shipped') });
  assert.equal(last().headers['idempotency-key'], 'order-42-shipped');
});
