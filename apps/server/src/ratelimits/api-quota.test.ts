import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signUserToken } from '../auth/user-token';
import { countRows } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

const quotaHeaders = (res: Response) => ({
  limit: res.headers.get('ratelimit-limit'),
  remaining: res.headers.get('ratelimit-remaining'),
  reset: Number(res.headers.get('ratelimit-reset')),
  policy: res.headers.get('ratelimit-policy'),
  retryAfter: res.headers.get('retry-after'),
});

describe('per-key API quota: RateLimit-* headers on every /v1 call, 429 with Retry-After over it', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({
      label: 'quota',
      env: { CLARION_API_QUOTA: '5', CLARION_API_QUOTA_WINDOW_SECONDS: '60' },
    });
  });
  after(() => h.close());

  test('each answer tells the limit, what is left and when the window resets', async () => {
    const app = await h.createApp();
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.call(
        i % 2 ? '/v1/users/nobody' : '/v1/users/x',
        i % 2 ? {} : { method: 'PUT', body: {} },
      );
      assert.ok([200, 201, 404].includes(res.status));
      seen.push(quotaHeaders(res));
    }
    assert.deepEqual(
      seen.map((s) => s.remaining),
      ['4', '3', '2', '1', '0'],
    );
    for (const s of seen) {
      assert.equal(s.limit, '5');
      assert.equal(s.policy, '5;w=60');
      assert.ok(s.reset >= 1 && s.reset <= 60, `reset ${s.reset}`);
      assert.equal(s.retryAfter, null);
    }
  });

  test('over the quota: 429 `rate_limited` with Retry-After, and the refused request changes nothing', async () => {
    const app = await h.createApp();
    await app.call('/v1/users/ada', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/ada` } });
    for (let i = 0; i < 4; i++) assert.equal((await app.call('/v1/users/ada')).status, 200);
    const before = await countRows(h.db.url, ['notifications', 'deliveries']);
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'ada' }, content: { webhook: { json: {} } } },
    });
    assert.equal(res.status, 429);
    const q = quotaHeaders(res);
    assert.equal(q.remaining, '0');
    assert.ok(Number(q.retryAfter) >= 1 && Number(q.retryAfter) <= 60);
    assert.equal(q.retryAfter, String(q.reset));
    const body = await json<{
      error: { code: string; message: string; details: { limit: number; windowSeconds: number } };
    }>(res);
    assert.equal(body.error.code, 'rate_limited');
    assert.deepEqual([body.error.details.limit, body.error.details.windowSeconds], [5, 60]);
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries']), before);
    // Every /v1 endpoint of this key is refused now.
    assert.equal((await app.call('/v1/users/ada/preferences')).status, 429);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(metrics, /clarion_rate_limit_hits_total\{[^}]*scope="api_quota"[^}]*\} [1-9]/);
  });

  test('a burst of concurrent calls with one key: exactly the quota passes, each told a different remainder', async () => {
    const app = await h.createApp();
    const answers = await Promise.all(Array.from({ length: 9 }, () => app.call('/v1/users/burst')));
    const passed = answers.filter((r) => r.status === 404);
    const refused = answers.filter((r) => r.status === 429);
    assert.equal(passed.length, 5);
    assert.equal(refused.length, 4);
    assert.deepEqual(passed.map((r) => r.headers.get('ratelimit-remaining')).sort(), [
      '0',
      '1',
      '2',
      '3',
      '4',
    ]);
    for (const r of refused) assert.equal(r.headers.get('ratelimit-remaining'), '0');
    assert.equal((await app.call('/v1/users/burst')).status, 429);
  });

  test('the quota is per key: another key of the same app is not affected', async () => {
    const app = await h.createApp();
    for (let i = 0; i < 6; i++) await app.call('/v1/users/zed');
    assert.equal((await app.call('/v1/users/zed')).status, 429);
    const other = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'server' }),
      }),
    );
    const res = await fetch(`${h.url}/v1/users/zed`, {
      headers: { authorization: basic(other.appKey, other.appSecret) },
    });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('ratelimit-remaining'), '4');
  });

  test('a client key counts per signed-in user (every install shares the key)', async () => {
    const app = await h.createApp();
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const as = async (user: string) =>
      fetch(`${h.url}/v1/users/${user}`, {
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': await signUserToken(user, app.userTokenSecret),
        },
      });
    for (let i = 0; i < 5; i++) await as('u1');
    assert.equal((await as('u1')).status, 429);
    const u2 = await as('u2');
    assert.equal(u2.status, 404);
    assert.equal(u2.headers.get('ratelimit-remaining'), '4');
  });

  test('an app’s own quota (settings.apiQuota) overrides the default, and the window resets', async () => {
    const app: TestApp = await h.createApp({ apiQuota: { limit: 2, windowSeconds: 1 } });
    const first = await app.call('/v1/users/q');
    assert.equal(first.headers.get('ratelimit-limit'), '2');
    assert.equal(first.headers.get('ratelimit-policy'), '2;w=1');
    await app.call('/v1/users/q');
    const refused = await app.call('/v1/users/q');
    assert.equal(refused.status, 429);
    await sleep(Number(refused.headers.get('retry-after')) * 1000 + 100);
    const again = await app.call('/v1/users/q');
    assert.equal(again.status, 404, 'allowed again after Retry-After');
    assert.equal(again.headers.get('ratelimit-remaining'), '1');
  });

  test('unauthenticated calls are refused before the quota and carry no quota headers', async () => {
    const res = await fetch(`${h.url}/v1/users/x`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('ratelimit-limit'), null);
  });
});
