import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { signUserToken } from '../auth/user-token';
import {
  exampleOf,
  hostileQuery,
  hostileSegment,
  mutateBody,
  type Operation,
  operationsOf,
  Prng,
  routesOf,
  toJson,
} from '../testing/api-fuzzer';
import { contractProblem } from '../testing/contract-check';
import { ADMIN_TOKEN, basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

/**
 * Every operation of /docs-json, sent hostile requests from a fixed seed: no answer may be a 5xx,
 * every 4xx has the documented `{error: {code, message, details}}` shape, every answer has a status
 * and body the document declares for the operation, and a refused request changes no row. CI runs the default count; more locally: CLARION_FUZZ_CASES=20000 CLARION_FUZZ_SEED=7.
 */
const CASES = Number(process.env.CLARION_FUZZ_CASES ?? 800);
const SEED = Number(process.env.CLARION_FUZZ_SEED ?? 14);

const TABLES = [
  'apps',
  'api_keys',
  'users',
  'contacts',
  'topic_subscriptions',
  'notifications',
  'deliveries',
  'delivery_events',
  'event_ids',
  'integrations',
  'templates',
  'template_versions',
  'user_preferences',
  'user_quiet_hours',
  'status_webhooks',
];
/** One round trip: a digest of every row of the main tables. */
const CHECKSUM = `SELECT md5(string_agg(d, '|' ORDER BY d)) AS sum FROM (${TABLES.map(
  (t) =>
    `SELECT '${t}:' || count(*) || ':' || coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS d FROM ${t} x`,
).join(' UNION ALL ')}) s`;

interface Failure {
  case: number;
  request: string;
  status: number;
  problem: string;
  answer: string;
}

describe(`API fuzzing from the OpenAPI document (seed ${SEED}, ${CASES} cases)`, () => {
  let h: Harness;
  let app: TestApp;
  let other: TestApp;
  let client: { appKey: string; appSecret: string };
  let pg: Client;
  const fixtures: Record<string, string> = {};

  before(async () => {
    // API role only: no worker writes in the background, so any change in the database is a request's.
    h = await startHarness({ label: 'fuzz', role: 'api' });
    app = await h.createApp();
    other = await h.createApp();
    client = await json(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const ok = async (res: Promise<Response>) => {
      const r = await res;
      assert.ok(r.status < 300, `fixture: ${r.status} ${await r.clone().text()}`);
      return json<Record<string, unknown>>(r);
    };
    await ok(
      app.call('/v1/users/fuzz-user', { method: 'PUT', body: { email: 'fuzz@example.com', locale: 'en' } }),
    );
    const device = await ok(
      app.call('/v1/users/fuzz-user/devices', {
        body: { platform: 'android', token: 'fcm-token-abcdefghijklmnopqrstuvwxyz' },
      }),
    );
    await app.call('/v1/users/fuzz-user/topics/news', { method: 'PUT' });
    await ok(
      app.call('/v1/templates/fuzz-tpl', {
        method: 'PUT',
        body: { content: { webhook: { json: { a: '{{ user.id }}' } } } },
      }),
    );
    const sent = await ok(
      app.call('/v1/notifications', {
        body: { to: { userId: 'fuzz-user' }, content: { webhook: { json: { a: 1 } } } },
      }),
    );
    const hook = await ok(app.call('/v1/webhooks', { body: { url: 'https://example.com/status' } }));
    // A key of its own for the rotate and revoke routes: the fuzzer's own keys must keep working.
    const spare = await ok(
      h.admin(`/admin/apps/${app.id}/keys`, { method: 'POST', body: JSON.stringify({ kind: 'server' }) }),
    );
    Object.assign(fixtures, {
      userId: 'fuzz-user',
      deviceId: String(device.id),
      topic: 'news',
      key: 'fuzz-tpl',
      version: '1',
      id: String(sent.id),
      appId: app.id,
      keyId: String(spare.id),
      plugin: 'webhook',
      token: 'not-a-token',
    });
    // The webhook id shares `{id}` with notifications: the webhooks route gets its own below.
    fixtures.webhookId = String(hook.id);
    pg = new Client({ connectionString: h.db.url });
    await pg.connect();
  });
  after(async () => {
    await pg?.end();
    await h?.close();
  });

  test('no 5xx, the documented error shape on every 4xx, every answer as the document declares it, and no write from a refused request', async (t) => {
    const doc = await json<Parameters<typeof operationsOf>[0]>(await fetch(`${h.url}/docs-json`));
    const ops = operationsOf(doc);
    const documented = new Set(ops.map((o) => `${o.method} ${o.path}`));
    const routes = routesOf(h.app!.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false }));
    assert.deepEqual(
      // `OPTIONS *` answers CORS preflights (auth/cors.ts): protocol, not an API operation.
      routes.filter((r) => !r.includes(' /docs') && r !== 'OPTIONS *' && !documented.has(r)),
      [],
      'every route is in the OpenAPI document (so the fuzzer reaches it)',
    );
    const rng = new Prng(SEED);
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const checksum = async () => (await pg.query<{ sum: string }>(CHECKSUM)).rows[0]!.sum;
    let before = await checksum();

    for (let i = 0; i < CASES; i++) {
      // Each operation once per round, in a seeded order within the round.
      const op = i < ops.length ? ops[i]! : rng.pick(ops);
      const request = await buildRequest(rng, op);
      let status = 0;
      let answer = '';
      let contentType = '';
      let undeclared: string | null = null;
      try {
        const res = await fetch(`${h.url}${request.url}`, {
          method: request.method,
          headers: request.headers,
          redirect: 'manual',
          signal: AbortSignal.timeout(30_000),
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        status = res.status;
        contentType = res.headers.get('content-type') ?? '';
        undeclared = await contractProblem(request.method, request.url, res);
        answer = await res.text();
      } catch (error) {
        answer = String(error);
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const after = await checksum();
      const fail = (problem: string) =>
        failures.push({
          case: i,
          request: `${request.method} ${request.url.slice(0, 200)} [${request.auth}] ${request.describe}`,
          status,
          problem,
          answer: answer.slice(0, 300),
        });
      if (undeclared) fail(`not what the document declares: ${undeclared.slice(0, 300)}`);
      if (status === 0) fail('no answer');
      else if (status >= 500) fail('server error');
      else if (status >= 400) {
        const page = op.errorPage !== undefined && contentType.startsWith(op.errorPage);
        if (request.method !== 'HEAD' && !page && !documentedShape(contentType, answer))
          fail('not the documented error shape');
        if (after !== before) fail('a refused request changed the database');
      }
      before = after;
    }
    t.diagnostic(`answers by status: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    assert.deepEqual(failures, [], `${failures.length} of ${CASES} cases failed (seed ${SEED})`);
  });

  /** A request for `op`: usually well-formed with one or more hostile parts. */
  async function buildRequest(rng: Prng, op: Operation) {
    const notes: string[] = [];
    let path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      const value =
        name === 'id' && op.path.startsWith('/v1/webhooks') ? fixtures.webhookId! : (fixtures[name] ?? 'x');
      if (rng.chance(0.2)) {
        const hostile = hostileSegment(rng);
        notes.push(`${name}=${hostile.slice(0, 40)}`);
        return hostile;
      }
      return encodeURIComponent(value);
    });
    if (rng.chance(0.25)) {
      const query = hostileQuery(rng, op);
      notes.push(`query ${query.slice(0, 60)}`);
      path += `?${query}`;
    } else if (op.path === '/v1/unsubscribe') path += '?token=not-a-token';
    let method = op.method;
    if (rng.chance(0.05)) {
      method = rng.pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']);
      notes.push(`method ${method}`);
    }

    const headers: Record<string, string> = {};
    let body: string | Uint8Array | undefined;
    if (op.bodyType || rng.chance(0.1)) {
      const seed = SEED_BODIES[`${op.method} ${op.path}`] ?? exampleOf(op.bodySchema) ?? {};
      const value = rng.chance(0.8) ? mutateBody(rng, seed) : seed;
      const text = toJson(value);
      headers['content-type'] = 'application/json';
      body = text;
      const roll = rng.int(20);
      if (roll === 0)
        [body, notes[notes.length]] = [text.slice(0, Math.max(1, text.length >> 1)), 'truncated JSON'];
      else if (roll === 1) [headers['content-type'], notes[notes.length]] = ['text/plain', 'text/plain'];
      else if (roll === 2)
        [headers['content-type'], notes[notes.length]] = ['application/x-www-form-urlencoded', 'form'];
      else if (roll === 3)
        [body, notes[notes.length]] = [
          Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
          'invalid UTF-8',
        ];
      else if (roll === 4) [body, notes[notes.length]] = [`\ufeff${text}`, 'BOM'];
      else if (roll === 5)
        [headers['content-type'], notes[notes.length]] = ['application/json; charset=utf-16', 'charset'];
      else if (roll === 6) {
        delete headers['content-type'];
        notes.push('no content type');
      } else if (roll === 7 && rng.chance(0.2))
        [body, notes[notes.length]] = [`{"a":"${'x'.repeat(6 * 1024 * 1024)}"}`, '6 MB'];
      else notes.push(`body ${text.slice(0, 80)}`);
      if (method === 'GET' || method === 'HEAD') body = undefined;
    }

    const auth = await authFor(rng, op);
    Object.assign(headers, auth.headers);
    return { method, url: path, headers, body, auth: auth.name, describe: notes.join('; ') };
  }

  async function authFor(
    rng: Prng,
    op: Operation,
  ): Promise<{ name: string; headers: Record<string, string> }> {
    const server = { authorization: basic(app.appKey, app.appSecret) };
    const roll = rng.next();
    if (op.security === 'admin') {
      if (roll < 0.7) return { name: 'admin', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };
      if (roll < 0.8) return { name: 'none', headers: {} };
      if (roll < 0.9)
        return { name: 'wrong admin token', headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } };
      return { name: 'app key', headers: server };
    }
    if (op.security === 'none') {
      if (roll < 0.8) return { name: 'none', headers: {} };
      return { name: 'server', headers: server };
    }
    if (roll < 0.55) return { name: 'server', headers: server };
    if (roll < 0.65)
      return {
        name: 'client',
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': await signUserToken('fuzz-user', app.userTokenSecret),
        },
      };
    if (roll < 0.7)
      return {
        name: 'client, forged token',
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': rng.chance(0.5)
            ? await signUserToken('fuzz-user', 'not-the-secret')
            : 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJmdXp6LXVzZXIifQ.',
        },
      };
    if (roll < 0.76) return { name: 'none', headers: {} };
    if (roll < 0.81)
      return { name: 'wrong secret', headers: { authorization: basic(app.appKey, `${app.appSecret}x`) } };
    if (roll < 0.86)
      return {
        name: 'garbage',
        headers: {
          authorization: rng.pick(['Basic !!!', 'Basic Og==', 'Bearer x', `Basic ${'A'.repeat(4000)}`]),
        },
      };
    if (roll < 0.95)
      return { name: 'other tenant', headers: { authorization: basic(other.appKey, other.appSecret) } };
    return { name: 'admin token on /v1', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };
  }
});

/** Valid bodies to start from where an example from the schema would be refused outright. */
const SEED_BODIES: Record<string, unknown> = {
  'POST /v1/notifications': {
    to: { userId: 'fuzz-user' },
    content: { webhook: { json: { a: 1 } }, email: { subject: 'Hi', text: 'Hello' } },
    data: { plan: 'pro' },
    category: 'news',
  },
  'POST /v1/notifications/batch': {
    notifications: [
      { to: { userId: 'fuzz-user' }, content: { webhook: { json: { a: 1 } } }, eventId: 'fuzz-batch' },
      { to: { topic: 'news' }, template: 'fuzz-tpl', category: 'news' },
    ],
  },
  'PUT /v1/users/{userId}': {
    email: 'fuzz@example.com',
    locale: 'en',
    timezone: 'Europe/Lisbon',
    attributes: { plan: 'pro' },
  },
  'POST /v1/users/{userId}/devices': { platform: 'android', token: 'fcm-token-abcdefghijklmnopqrstuvwxyz' },
  'PUT /v1/users/{userId}/preferences': {
    rules: [{ channel: 'email', category: 'news', enabled: false }],
    quietHours: { start: '22:00', end: '07:00' },
  },
  'PUT /v1/templates/{key}': {
    content: { webhook: { json: { a: '{{ user.id }}' } }, sms: { text: 'Hi {{ user.id }}' } },
  },
  'POST /v1/templates/{key}/preview': { userId: 'fuzz-user', data: { a: 1 } },
  'POST /v1/notifications/{id}/cancel': {},
  'POST /v1/webhooks': { url: 'https://example.com/status', events: ['delivered'] },
  'POST /v1/events': { events: [{ deliveryId: '01a21191-3f78-7196-87d2-22dc5a9d8763', type: 'opened' }] },
  'POST /admin/apps': { name: 'fuzzed', settings: {} },
  'POST /admin/apps/{appId}/keys': { kind: 'client', name: 'fuzz' },
  'PUT /admin/apps/{appId}/settings': { criticalCategories: ['security'] },
  'PUT /admin/apps/{appId}/integrations/{plugin}': { config: { url: 'https://example.com/hook' } },
  'POST /admin/apps/{appId}/user-token-secret/rotate': { graceSeconds: 60 },
};

function documentedShape(contentType: string, text: string): boolean {
  if (!contentType.startsWith('application/json')) return false;
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    return (
      typeof body.error?.code === 'string' &&
      typeof body.error.message === 'string' &&
      body.error.details !== undefined
    );
  } catch {
    return false;
  }
}
