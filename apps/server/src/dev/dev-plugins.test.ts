import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, freePort, type TestDatabase, waitFor } from '@clarion/testkit';
import { checkAnswersFrom } from '../testing/checked-fetch';

const BANNER_END = /Send a first notification to the demo user:/;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A plugin package as `npm install --legacy-peer-deps` leaves it: no SDK, no zod beside it. */
function installPlugin(nodeModules: string, sdkRange: string, body = ''): void {
  const dir = join(nodeModules, '@acme', 'clarion-plugin-echo');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: '@acme/clarion-plugin-echo',
      version: '2.0.0',
      main: 'index.js',
      peerDependencies: { '@clarion/plugin-sdk': sdkRange, zod: '^4.0.0' },
    }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `${body}
const sdk = require('@clarion/plugin-sdk');
const { z } = require('zod');
exports.default = sdk.defineChannelPlugin({
  name: 'echo', version: '2.0.0', sdkVersion: ${JSON.stringify(sdkRange)}, channel: 'webhook', addressKind: 'url',
  config: z.object({ apiKey: z.string().min(8) }),
  async createSender() { return { async send() { return { providerMessageId: 'echoed' }; }, async close() {} }; },
});`,
  );
}

/**
 * `clarion dev` with a plugin installed outside the clone (its own folder, no SDK of its own), and
 * starts that fail on that plugin: each says why, exits 1, and leaves no redis-server behind.
 * PostgreSQL is the test's (DATABASE_URL), so the redis-server is the one process dev mode starts.
 */
describe('`clarion dev` with a plugin installed outside the clone', () => {
  const main = join(__dirname, '..', 'cli', 'main.js');
  const root = mkdtempSync(join(tmpdir(), 'clarion-devplugin-'));
  let db: TestDatabase;
  let ports: { api: number; redis: number; sandbox: number };
  const children: ChildProcess[] = [];

  before(async () => {
    db = await createTestDatabase('devplugin');
    ports = { api: await freePort(), redis: await freePort(), sandbox: await freePort() };
    // `clarion dev` serves the API there: its answers are checked against the OpenAPI document.
    checkAnswersFrom(`http://127.0.0.1:${ports.api}`);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    await db?.drop();
  });

  const dev = (case_: string, env: Record<string, string>) => {
    const dataDir = join(root, case_, 'data');
    mkdirSync(dataDir, { recursive: true });
    const child = spawn(process.execPath, [main, 'dev'], {
      cwd: join(root, case_),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: db.url,
        CLARION_DATA_DIR: dataDir,
        PORT: String(ports.api),
        CLARION_DEV_REDIS_PORT: String(ports.redis),
        CLARION_SANDBOX_PORT: String(ports.sandbox),
        CLARION_PLUGINS: '@clarion/plugin-webhook,@acme/clarion-plugin-echo',
        CLARION_PLUGIN_PATH: join(root, case_, 'node_modules'),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    return { child, output: () => out, exited, pidFile: join(dataDir, 'redis', 'redis-server.pid') };
  };

  test('loads it: the plugin resolves the server’s SDK and zod, no NODE_PATH', async () => {
    installPlugin(join(root, 'ok', 'node_modules'), '^0.1.0');
    const run = dev('ok', { CLARION_ECHO_API_KEY: 'echo-key-123' });
    await waitFor(
      `the dev banner (output so far: ${run.output().slice(-800)})`,
      () => BANNER_END.test(run.output()) || run.child.exitCode !== null,
      { timeoutMs: 60_000 },
    );
    assert.match(run.output(), BANNER_END, run.output());
    const res = await fetch(`http://127.0.0.1:${ports.api}/admin/plugins`, {
      headers: { authorization: `Bearer ${/CLARION_ADMIN_TOKEN=(\S+)/.exec(run.output())?.[1]}` },
    });
    const listed = JSON.stringify(await res.json());
    assert.match(listed, /"echo"/, listed);
    assert.match(listed, /"2\.0\.0"/, listed);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
    assert.equal(await listening(ports.redis), false, 'its redis-server stopped');
  });

  const failures: [string, (nm: string) => void, Record<string, string>, RegExp][] = [
    [
      'the plugin fails to load',
      (nm) => installPlugin(nm, '^0.1.0', "throw new Error('echo is broken');"),
      { CLARION_ECHO_API_KEY: 'echo-key-123' },
      /cannot load plugin package "@acme\/clarion-plugin-echo": echo is broken/,
    ],
    [
      'the plugin needs another SDK',
      (nm) => installPlugin(nm, '^9.0.0'),
      { CLARION_ECHO_API_KEY: 'echo-key-123' },
      /plugin "echo" \(@acme\/clarion-plugin-echo\) needs @clarion\/plugin-sdk \^9\.0\.0, this server has/,
    ],
    [
      'the plugin’s setting is wrong',
      (nm) => installPlugin(nm, '^0.1.0'),
      { CLARION_ECHO_API_KEY: 'short' },
      /CLARION_ECHO_API_KEY: /,
    ],
  ];
  for (const [what, install, env, message] of failures) {
    test(`a start that fails because ${what} says so, exits 1 and leaves no redis-server running`, async () => {
      const case_ = what.replace(/\W+/g, '-');
      install(join(root, case_, 'node_modules'));
      const run = dev(case_, env);
      assert.equal(await run.exited, 1, run.output());
      assert.match(run.output(), message);
      assert.equal(await listening(ports.redis), false, `redis-server still answers on ${ports.redis}`);
      assert.equal(existsSync(run.pidFile), false, 'its pid file is gone: nothing to find next time');
    });
  }
});
