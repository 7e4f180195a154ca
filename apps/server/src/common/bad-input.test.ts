import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countRows } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

const TABLES = [
  'apps',
  'api_keys',
  'users',
  'contacts',
  'topic_subscriptions',
  'notifications',
  'deliveries',
  'event_ids',
  'integrations',
];
const content = { webhook: { json: {} } };

/** [what, method, path, body, expected status]; `admin` rows use the admin token. */
type Case = [
  what: string,
  method: string,
  path: string,
  body: unknown,
  status: number,
  who?: 'app' | 'admin',
];

describe('bad input: a clear 4xx with {error: {code, message, details}}, and nothing changes', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'badinput' });
    app = await h.createApp();
    await app.call('/v1/users/known', { method: 'PUT', body: { email: 'k@example.com' } });
  });
  after(() => h.close());

  const cases: Case[] = [
    ['not JSON', 'POST', '/v1/notifications', '{"to":', 400],
    ['empty body', 'POST', '/v1/notifications', {}, 400],
    ['no recipient', 'POST', '/v1/notifications', { content }, 400],
    ['two recipients kinds', 'POST', '/v1/notifications', { to: { userId: 'a', topic: 't' }, content }, 400],
    [
      'content and template',
      'POST',
      '/v1/notifications',
      { to: { userId: 'a' }, content, template: 'x' },
      400,
    ],
    ['unknown field', 'POST', '/v1/notifications', { to: { userId: 'a' }, content, colour: 'red' }, 400],
    [
      'unknown channel',
      'POST',
      '/v1/notifications',
      { to: { userId: 'a' }, content, channels: ['pigeon'] },
      400,
    ],
    ['bad priority', 'POST', '/v1/notifications', { to: { userId: 'a' }, content, priority: 'urgent' }, 400],
    ['bad sendAt', 'POST', '/v1/notifications', { to: { userId: 'a' }, content, sendAt: 'tomorrow' }, 400],
    ['negative ttl', 'POST', '/v1/notifications', { to: { userId: 'a' }, content, ttl: -5 }, 400],
    // Text PostgreSQL cannot store (U+0000, unpaired surrogates) is refused up front, wherever it is (at the database it would be a 500, for the whole batch).
    [
      'NUL in a string',
      'POST',
      '/v1/notifications',
      { to: { userId: 'known' }, content: { sms: { text: 'a\u0000b' } } },
      400,
    ],
    ['NUL in a key', 'PUT', '/v1/users/known', { attributes: { 'a\u0000b': 1 } }, 400],
    [
      'unpaired surrogate (not well-formed Unicode)',
      'POST',
      '/v1/notifications',
      { to: { userId: 'known' }, content: { sms: { text: 'a\ud800b' } } },
      400,
    ],
    ['NUL in a path parameter', 'PUT', '/v1/users/a%00b', { email: 'n@example.com' }, 400],
    ['NUL in the query', 'GET', '/v1/users/known/deliveries?cursor=%00', undefined, 400],
    [
      'e-mail without body',
      'POST',
      '/v1/notifications',
      { to: { userId: 'a' }, content: { email: { subject: 's' } } },
      400,
    ],
    [
      'sms too long',
      'POST',
      '/v1/notifications',
      { to: { userId: 'a' }, content: { sms: { text: 'x'.repeat(2000) } } },
      400,
    ],
    ['data not an object', 'POST', '/v1/notifications', { to: { userId: 'a' }, content, data: [1] }, 400],
    ['unknown template', 'POST', '/v1/notifications', { to: { userId: 'known' }, template: 'nope' }, 422],
    ['bad notification id', 'GET', '/v1/notifications/not-a-uuid', undefined, 404],
    ['missing notification', 'GET', '/v1/notifications/01a21191-3f78-7196-87d2-22dc5a9d8763', undefined, 404],
    ['bad cursor', 'GET', '/v1/notifications/01a21191-3f78-7196-87d2-22dc5a9d8763?limit=0', undefined, 400],
    ['bad phone', 'PUT', '/v1/users/u1', { phone: '0800 123' }, 400],
    ['bad e-mail', 'PUT', '/v1/users/u1', { email: 'not-an-email' }, 400],
    ['bad timezone', 'PUT', '/v1/users/u1', { timezone: 'Mars/Olympus' }, 400],
    ['bad locale', 'PUT', '/v1/users/u1', { locale: 'English!' }, 400],
    ['unknown user field', 'PUT', '/v1/users/u1', { nickname: 'x' }, 400],
    ['unknown user', 'GET', '/v1/users/ghost', undefined, 404],
    ['delete unknown user', 'DELETE', '/v1/users/ghost', undefined, 404],
    ['device without platform', 'POST', '/v1/users/u1/devices', { token: 'abc' }, 400],
    ['ios token not hex', 'POST', '/v1/users/u1/devices', { platform: 'ios', token: 'zzzz' }, 400],
    ['web without subscription', 'POST', '/v1/users/u1/devices', { platform: 'web', token: 'x' }, 400],
    [
      'web subscription over http',
      'POST',
      '/v1/users/u1/devices',
      {
        platform: 'web',
        subscription: {
          endpoint: 'http://push.example.com/x',
          keys: { p256dh: 'a'.repeat(30), auth: 'b'.repeat(10) },
        },
      },
      400,
    ],
    [
      'remove unknown device',
      'DELETE',
      '/v1/users/known/devices/01a21191-3f78-7196-87d2-22dc5a9d8763',
      undefined,
      404,
    ],
    ['bad topic name', 'PUT', '/v1/users/u1/topics/has%20space', undefined, 400],
    ['unsubscribe unknown', 'DELETE', '/v1/users/known/topics/news', undefined, 404],
    ['app without name', 'POST', '/admin/apps', {}, 400, 'admin'],
    [
      'app with bad settings',
      'POST',
      '/admin/apps',
      { name: 'x', settings: { allowClientSending: 'yes' } },
      400,
      'admin',
    ],
    ['key of unknown app', 'POST', '/admin/apps/01a21191-3f78-7196-87d2-22dc5a9d8763/keys', {}, 404, 'admin'],
    ['key of bad kind', 'POST', '/admin/apps/APP/keys', { kind: 'root' }, 400, 'admin'],
    [
      'revoke unknown key',
      'DELETE',
      '/admin/apps/APP/keys/01a21191-3f78-7196-87d2-22dc5a9d8763',
      undefined,
      404,
      'admin',
    ],
    [
      'integration for unknown plugin',
      'PUT',
      '/admin/apps/APP/integrations/nope',
      { config: {} },
      404,
      'admin',
    ],
    [
      'integration with bad settings',
      'PUT',
      '/admin/apps/APP/integrations/webhook',
      { config: { url: 'not a url' } },
      400,
      'admin',
    ],
    ['settings with unknown key', 'PUT', '/admin/apps/APP/settings', { colour: 'red' }, 400, 'admin'],
    ['unknown route', 'GET', '/v1/nothing-here', undefined, 404],
  ];

  for (const [what, method, path, body, status, who] of cases) {
    test(`${method} ${path.replace('APP', ':app')}: ${what} → ${status}`, async () => {
      const before = await countRows(h.db.url, TABLES);
      const url = path.replace('APP', app.id);
      const res =
        who === 'admin'
          ? await h.admin(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
          : await app.call(url, { method, ...(body === undefined ? {} : { body }) });
      assert.equal(res.status, status, await res.clone().text());
      const payload = await json<{ error: { code: string; message: string } }>(res);
      assert.equal(typeof payload.error?.code, 'string');
      assert.ok(payload.error.message.length > 0);
      assert.deepEqual(await countRows(h.db.url, TABLES), before);
    });
  }

  test('a NUL character is named by its path', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'known' }, content: { sms: { text: 'a\u0000b' } } },
    });
    const body = await json<{ error: { details: { path: string; message: string }[] } }>(res);
    assert.deepEqual(
      body.error.details.map((d) => d.path),
      ['body.content.sms.text'],
    );
  });

  test('400 answers list every problem with its path', async () => {
    const res = await app.call('/v1/notifications', { body: { to: { userId: '' }, content, priority: 'x' } });
    const body = await json<{ error: { details: { path: string; message: string }[] } }>(res);
    const paths = body.error.details.map((d) => d.path);
    assert.ok(paths.includes('body.to.userId'));
    assert.ok(paths.includes('body.priority'));
  });
});
