import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countRows } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { JSON_LIMITS, MAX_JSON_DEPTH } from './free-json';

const TABLES = ['users', 'contacts', 'notifications', 'deliveries', 'event_ids', 'template_versions'];

/** `inner` wrapped in `levels` arrays, written as text: JSON.stringify itself would overflow here. */
const nestedArrays = (levels: number, inner = '') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
/** `inner` as the value of `levels` nested objects. */
const nestedObjects = (levels: number, inner: string, key = '"a"') =>
  `${`{${key}:`.repeat(levels)}${inner}${'}'.repeat(levels)}`;

const send = (extra: string) => `{"to":{"userId":"target"},"content":{"webhook":{"json":{}}}${extra}}`;

/**
 * Free-form values (`data`, `attributes`, `webhook.json`, template samples) are bounded in depth
 * and size and may hold no text PostgreSQL refuses. Before, a value 5,000 levels deep overflowed
 * the stack in the shared group-commit write and failed the other requests in its batch.
 */
describe('hostile JSON fails its own request with a 400, never another tenant’s', () => {
  let h: Harness;
  let innocent: TestApp;
  let hostile: TestApp;
  before(async () => {
    h = await startHarness({ label: 'freejson' });
    innocent = await h.createApp({ webhookUrl: `${h.sandbox.url}/webhook/innocent` });
    hostile = await h.createApp({ webhookUrl: `${h.sandbox.url}/webhook/hostile` });
    for (const app of [innocent, hostile])
      assert.equal((await app.call('/v1/users/target', { method: 'PUT', body: {} })).status, 201);
  });
  after(() => h.close());

  const hostileCalls: [what: string, method: string, path: string, body: string][] = [
    ['data 5,000 levels deep', 'POST', '/v1/notifications', send(`,"data":{"x":${nestedArrays(5000)}}`)],
    [
      'webhook.json 5,000 levels deep',
      'POST',
      '/v1/notifications',
      `{"to":{"userId":"target"},"content":{"webhook":{"json":${nestedArrays(5000)}}}}`,
    ],
    [
      `data one level deeper than ${MAX_JSON_DEPTH}`,
      'POST',
      '/v1/notifications',
      send(`,"data":${nestedObjects(MAX_JSON_DEPTH + 1, '1')}`),
    ],
    ['NUL 100 levels deep', 'POST', '/v1/notifications', send(`,"data":${nestedObjects(100, '"\\u0000"')}`)],
    [
      'a lone surrogate in a key 80 levels deep',
      'POST',
      '/v1/notifications',
      send(`,"data":${nestedObjects(79, nestedObjects(1, '1', '"k\\ud800"'))}`),
    ],
    [
      'data over its size limit',
      'POST',
      '/v1/notifications',
      send(`,"data":{"x":"${'x'.repeat(JSON_LIMITS.data)}"}`),
    ],
    [
      'attributes: 100,000 nested arrays',
      'PUT',
      '/v1/users/target',
      `{"attributes":{"a":${nestedArrays(100_000)}}}`,
    ],
    [
      'a template sample 5,000 levels deep',
      'PUT',
      '/v1/templates/deep',
      `{"content":{"sms":{"text":"hi"}},"sample":{"data":{"x":${nestedArrays(5000)}}}}`,
    ],
  ];

  test('hostile bodies from one app get 400 while 30 concurrent requests of another app all succeed', async () => {
    const before = await countRows(h.db.url, TABLES);
    const innocentSends = Array.from({ length: 30 }, (_, i) =>
      innocent.call('/v1/notifications', {
        body: { to: { userId: 'target' }, data: { i }, content: { webhook: { json: { i } } } },
      }),
    );
    // Several rounds of each hostile body, interleaved with the innocent ones in the same batches.
    const hostileSends = [0, 1, 2].flatMap(() =>
      hostileCalls.map(([, method, path, body]) => hostile.call(path, { method, body })),
    );
    const [innocentAnswers, hostileAnswers] = await Promise.all([
      Promise.all(innocentSends),
      Promise.all(hostileSends),
    ]);
    assert.deepEqual(
      innocentAnswers.map((r) => r.status),
      innocentAnswers.map(() => 202),
    );
    for (const [i, res] of hostileAnswers.entries()) {
      const what = hostileCalls[i % hostileCalls.length]![0];
      assert.equal(res.status, 400, `${what}: ${await res.clone().text()}`);
      const body = await json<{ error: { code: string; message: string; details: unknown[] } }>(res);
      assert.equal(body.error.code, 'invalid_request', what);
      assert.ok(Array.isArray(body.error.details) && body.error.details.length > 0, what);
    }
    const after = await countRows(h.db.url, TABLES);
    assert.equal(after.notifications, before.notifications! + 30, 'only the innocent notifications');
    assert.equal(after.template_versions, before.template_versions);
    await h.sandbox.recorder.waitFor(30, { to: 'innocent', outcome: 'accepted' });
  });

  test('the answer names the field and the rule', async () => {
    const res = await hostile.call('/v1/notifications', {
      method: 'POST',
      body: send(`,"data":{"deep":${nestedObjects(MAX_JSON_DEPTH + 5, '1')}}`),
    });
    const body = await json<{ error: { details: { path: string; message: string }[] } }>(res);
    assert.equal(body.error.details[0]?.path, 'body.data');
    assert.match(body.error.details[0]?.message ?? '', /^deep(\.a)+: nested deeper than 32 levels$/);
  });

  test('values within the limits are accepted (32 levels, up to the size cap)', async () => {
    const res = await innocent.call('/v1/notifications', {
      method: 'POST',
      body: send(`,"data":{"deep":${nestedObjects(MAX_JSON_DEPTH - 1, '1')},"x":"${'x'.repeat(60_000)}"}`),
    });
    assert.equal(res.status, 202, await res.clone().text());
  });

  test('attributes merged over many calls are bounded too; the call over the bound changes nothing', async () => {
    const put = (attributes: Record<string, unknown>) =>
      hostile.call('/v1/users/merged', { method: 'PUT', body: { attributes } });
    assert.equal((await put({ a: 'x'.repeat(60_000) })).status, 201);
    assert.equal((await put({ b: 'x'.repeat(60_000) })).status, 200);
    const refused = await put({ c: 'x'.repeat(60_000) });
    assert.equal(refused.status, 400);
    assert.equal((await json<{ error: { code: string } }>(refused)).error.code, 'invalid_request');
    const user = await json<{ attributes: Record<string, unknown> }>(await hostile.call('/v1/users/merged'));
    assert.deepEqual(Object.keys(user.attributes).sort(), ['a', 'b']);
  });
});
