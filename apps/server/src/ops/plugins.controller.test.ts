import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
// Answers from the processes this file starts are checked against the OpenAPI document.
import '../testing/checked-fetch';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
} from '@clarion/testkit';

const main = join(__dirname, '..', 'cli', 'main.js');
const repo = join(__dirname, '..', '..', '..', '..');
const packageOf = (plugin: string) =>
  JSON.parse(readFileSync(join(repo, 'plugins', plugin, 'package.json'), 'utf8')) as {
    version: string;
    peerDependencies: Record<string, string>;
  };
const run = promisify(execFile);

/** What operators see of the loaded plugins: the start log, `GET /admin/plugins`, `clarion plugins`. */
describe('listing the loaded plugins', () => {
  const ADMIN = 'a-long-enough-admin-token';
  const prefix = testPrefix('plugins');
  let db: TestDatabase;
  let server: ClarionProcess;
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    CLARION_ADMIN_TOKEN: ADMIN,
    CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
    CLARION_QUEUE_PREFIX: prefix,
    CLARION_PLUGINS: '@clarion/plugin-webhook',
    CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough',
    LOG_LEVEL: 'info',
  });
  const webhook = () => ({
    name: 'webhook',
    package: '@clarion/plugin-webhook',
    channel: 'webhook',
    version: packageOf('webhook').version,
    sdkRange: packageOf('webhook').peerDependencies['@clarion/plugin-sdk'],
    health: 'healthy',
    warnings: [],
  });
  /** The in-app inbox: a channel the server always serves from its own database. */
  const inbox = () => ({
    name: 'inbox',
    package: '@clarion/server/inbox',
    channel: 'inbox',
    version: '1.0.0',
    sdkRange: '^0.1.0',
    health: 'healthy',
    warnings: [],
  });

  before(async () => {
    db = await createTestDatabase('plugins');
    server = await startClarionProcess({ main, role: 'all', env: env(), output: 'capture' });
  });
  after(async () => {
    await server?.stop();
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  test('the start log names each loaded plugin with its version', () => {
    const line = server.lines().find((l) => l.includes('loaded plugins:'));
    assert.ok(line, server.lines().join('\n'));
    assert.match(
      line,
      new RegExp(
        `loaded plugins: webhook ${packageOf('webhook').version} \\(@clarion/plugin-webhook, webhook\\)`,
      ),
    );
  });

  test('GET /admin/plugins lists name, package, channel, version, SDK range and health, for the admin token only', async () => {
    const refused = await fetch(`${server.url}/admin/plugins`, {
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    assert.equal(refused.status, 401);
    const error = (await refused.json()) as { error: { code: string } };
    assert.equal(typeof error.error.code, 'string');
    const res = await fetch(`${server.url}/admin/plugins`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { plugins: Record<string, unknown>[] };
    assert.deepEqual(body.plugins, [webhook(), inbox()]);
  });

  test('GET /v1/plugins gives a server key the same list; a client key is refused; /metrics has clarion_plugin_info', async () => {
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/admin/apps`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'plugins' }),
    });
    assert.equal(created.status, 201);
    const { app, key } = (await created.json()) as {
      app: { id: string };
      key: { appKey: string; appSecret: string };
    };
    const basic = (k: { appKey: string; appSecret: string }) =>
      `Basic ${Buffer.from(`${k.appKey}:${k.appSecret}`).toString('base64')}`;
    const res = await fetch(`${server.url}/v1/plugins`, { headers: { authorization: basic(key) } });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { plugins: unknown[] }).plugins, [webhook(), inbox()]);

    const client = await fetch(`${server.url}/admin/apps/${app.id}/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ kind: 'client', name: 'web' }),
    });
    assert.equal(client.status, 201);
    const clientKey = (await client.json()) as { appKey: string; appSecret: string };
    const refused = await fetch(`${server.url}/v1/plugins`, { headers: { authorization: basic(clientKey) } });
    assert.equal(refused.status, 403);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(
      metrics,
      new RegExp(
        `clarion_plugin_info\\{plugin="webhook",package="@clarion/plugin-webhook",channel="webhook",version="${packageOf('webhook').version}",sdk_range="[^"]+",role="all"\\} 1`,
      ),
    );
  });

  test("`clarion plugins --url` prints a running server's list; a wrong token is a plain message", async () => {
    const { stdout } = await run(process.execPath, [main, 'plugins', '--url', server.url], { env: env() });
    assert.deepEqual((JSON.parse(stdout) as { plugins: unknown[] }).plugins, [webhook(), inbox()]);
    const wrong = await run(process.execPath, [main, 'plugins', '--url', server.url], {
      env: { ...env(), CLARION_ADMIN_TOKEN: 'wrong-token-0123456789' },
    }).catch((e: { code: number; stderr: string }) => e);
    assert.equal('code' in wrong && wrong.code, 1);
    assert.match((wrong as { stderr: string }).stderr, /^clarion: .*\/admin\/plugins answered 401: /);
  });

  test('`clarion plugins` without a server lists what this environment loads, without provider credentials', () => {
    const out = spawnSync(process.execPath, [main, 'plugins'], {
      env: { PATH: process.env.PATH, CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-twilio' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(out.status, 0, out.stderr);
    const { plugins } = JSON.parse(out.stdout) as {
      plugins: { name: string; version: string; health: string }[];
    };
    assert.deepEqual(
      plugins.map((p) => [p.name, p.version, p.health]),
      [
        ['webhook', packageOf('webhook').version, 'unknown'],
        ['twilio', packageOf('twilio').version, 'unknown'],
      ],
    );
  });
});
