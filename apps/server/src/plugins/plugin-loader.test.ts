import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SDK_VERSION } from '@clarion/plugin-sdk';
import { loadPlugins, PluginLoadError } from './plugin-loader';

/**
 * The host loads the plugins named in config (package names, so a custom plugin is an
 * npm package), validates their config at start and refuses two plugins of one name. The custom
 * packages here sit in a plugin folder inside the app's tree, as in the image's
 * /app/plugins-extra: the SDK comes from the server (a peer dependency), zod from the plugin's own
 * copy, as `npm install` would lay it out.
 */
describe('the plugin host loading plugin packages', () => {
  // Under dist/ (ignored by git and the linter); resolution walks up to apps/server/node_modules.
  const root = mkdtempSync(join(__dirname, '.plugin-fixtures-'));
  const pluginPath = join(root, 'node_modules');

  const plugin = (pkg: string, body: string, version = '1.0.0') => {
    const dir = join(pluginPath, pkg);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg, version, main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), body);
  };
  const channelPlugin = (name: string, sdkVersion: string) => `
    const { defineChannelPlugin } = require('@clarion/plugin-sdk');
    const { z } = require('zod');
    exports.default = defineChannelPlugin({
      name: ${JSON.stringify(name)}, version: '1.0.0', sdkVersion: ${JSON.stringify(sdkVersion)},
      channel: 'pager', addressKind: 'url',
      config: z.object({ apiKey: z.string().min(8), timeoutMs: z.coerce.number().int().positive().default(5000) }),
      async createSender() { return { async send() { return {}; }, async close() {} }; },
    });`;

  before(() => {
    // The plugin's own zod: a second copy, not the server's (instanceof checks must still hold).
    cpSync(dirname(require.resolve('zod/package.json')), join(pluginPath, 'zod'), { recursive: true });
    plugin('@acme/clarion-plugin-pager', channelPlugin('pager', '^0.1.0'));
    plugin('@acme/clarion-plugin-future', channelPlugin('future', '^9.0.0'));
    plugin('@acme/webhook-clone', channelPlugin('webhook', '^0.1.0'));
    plugin(
      '@acme/clarion-plugin-beeper',
      `const { defineChannelPlugin } = require('@clarion/plugin-sdk');
      const { z } = require('zod');
      exports.default = defineChannelPlugin({
        name: 'beeper', version: '1.0.0', sdkVersion: '^0.1.0', channel: 'beeper', addressKind: 'device',
        platforms: ['android'], config: z.object({}),
        async createSender() { return { async send() { return {}; }, async close() {} }; },
      });`,
    );
    plugin('@acme/not-a-plugin', 'exports.hello = "world";');
    plugin('@acme/clarion-plugin-broken', "throw new Error('the native binding is missing');");
    // Installed with its own copy of the SDK beside it, as `npm install` of both tarballs lays it out.
    plugin(
      '@acme/clarion-plugin-own-sdk',
      `const { z } = require('zod');
      exports.default = { name: 'own-sdk', version: '1.0.0', sdkVersion: '^0.1.0', channel: 'pager',
        addressKind: 'url', config: z.object({}),
        async createSender() { return { async send() { return {}; }, async close() {} }; } };`,
      '2.3.4',
    );
    const sdk = join(dirname(require.resolve('@clarion/plugin-sdk')), '..');
    const ownSdk = join(pluginPath, '@acme/clarion-plugin-own-sdk/node_modules/@clarion/plugin-sdk');
    mkdirSync(ownSdk, { recursive: true });
    cpSync(join(sdk, 'package.json'), join(ownSdk, 'package.json'));
    cpSync(join(sdk, 'dist'), join(ownSdk, 'dist'), { recursive: true });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const load = (requested: string[], env: NodeJS.ProcessEnv = {}) =>
    loadPlugins({ requested, pluginPath, env });
  const problemsOf = (requested: string[], env: NodeJS.ProcessEnv = {}): string[] => {
    try {
      load(requested, env);
    } catch (error) {
      assert.ok(error instanceof PluginLoadError, String(error));
      return error.message.split('\n');
    }
    assert.fail('expected the plugins to be refused');
  };

  test('a custom package from the plugin folder loads, with its config read from CLARION_<NAME>_*', () => {
    const loaded = load(['@clarion/plugin-webhook', '@acme/clarion-plugin-pager'], {
      CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough',
      CLARION_PAGER_API_KEY: 'pager-key-1234',
      CLARION_PAGER_TIMEOUT_MS: '2500',
    });
    assert.deepEqual(
      loaded.map((l) => [l.packageName, l.plugin.name]),
      [
        ['@clarion/plugin-webhook', 'webhook'],
        ['@acme/clarion-plugin-pager', 'pager'],
      ],
    );
    assert.deepEqual(loaded[1]!.config, { apiKey: 'pager-key-1234', timeoutMs: 2500 });
  });

  test("a plugin resolving its own copy of the SDK loads with a warning naming both copies; one sharing the server's has none", () => {
    const loaded = load(['@acme/clarion-plugin-own-sdk', '@acme/clarion-plugin-pager'], {
      CLARION_PAGER_API_KEY: 'pager-key-1234',
    });
    const [own, shared] = loaded;
    assert.equal(own?.warnings.length, 1);
    assert.match(
      own!.warnings[0]!,
      /^plugin "own-sdk" resolves its own copy of @clarion\/plugin-sdk \(0\.\d+\.\d+ at .*clarion-plugin-own-sdk\/node_modules\/@clarion\/plugin-sdk\), not the server's/,
    );
    assert.deepEqual(shared?.warnings, []);
  });

  test("a loaded plugin's version is its package's, not the one its code declares", () => {
    const [own] = load(['@acme/clarion-plugin-own-sdk']);
    assert.equal(own?.version, '2.3.4');
  });

  test('every problem is reported at once, each naming its package or variable', () => {
    const problems = problemsOf(
      [
        '@acme/clarion-plugin-missing',
        '@acme/clarion-plugin-broken',
        '@acme/not-a-plugin',
        '@acme/clarion-plugin-future',
        '@clarion/plugin-webhook',
        '@acme/webhook-clone',
        '@acme/clarion-plugin-pager',
      ],
      { CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough', CLARION_PAGER_API_KEY: 'short' },
    );
    assert.deepEqual(problems.slice(0, 6), [
      `plugin package "@acme/clarion-plugin-missing" is not installed (looked in the server's own packages and in CLARION_PLUGIN_PATH, ${pluginPath})`,
      'cannot load plugin package "@acme/clarion-plugin-broken": the native binding is missing',
      'package "@acme/not-a-plugin" does not export a channel plugin (defineChannelPlugin) as default',
      `plugin "future" (@acme/clarion-plugin-future) needs @clarion/plugin-sdk ^9.0.0, this server has ${SDK_VERSION}`,
      'two plugins are named "webhook": @clarion/plugin-webhook and @acme/webhook-clone',
      'invalid configuration for plugin "pager":',
    ]);
    assert.match(problems[6]!, /^\s+CLARION_PAGER_API_KEY: /);
    assert.equal(problems.length, 7, problems.join('\n'));
  });

  test("a plugin channel of its own with addressKind 'device' is refused at load, saying why", () => {
    assert.deepEqual(problemsOf(['@acme/clarion-plugin-beeper']), [
      `plugin "beeper" (@acme/clarion-plugin-beeper) declares addressKind 'device' on its own channel "beeper": devices belong to the push and web channels; give "beeper" an address kind users can store (url, email or phone), or serve push or web`,
    ]);
  });

  test('a setting the schema refuses, and a missing required one, both name their variable', () => {
    const problems = problemsOf(['@acme/clarion-plugin-pager'], { CLARION_PAGER_TIMEOUT_MS: '-1' });
    const text = problems.join('\n');
    assert.match(text, /CLARION_PAGER_API_KEY: /);
    assert.match(text, /CLARION_PAGER_TIMEOUT_MS: /);
  });

  test('without CLARION_PLUGINS, only the built-ins with a setting of their own are loaded', () => {
    const loaded = load([], { CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough' });
    assert.deepEqual(
      loaded.map((l) => l.plugin.name),
      ['webhook'],
    );
  });

  test('a process that does not send with a plugin loads it without its credentials (the API, another pool)', () => {
    const env = { CLARION_TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000' }; // no auth token here
    const api = loadPlugins({
      requested: ['@clarion/plugin-twilio', '@acme/clarion-plugin-pager'],
      pluginPath,
      env,
      runs: [],
    });
    assert.deepEqual(
      api.map((l) => [l.plugin.name, l.config]),
      [
        ['twilio', undefined],
        ['pager', undefined],
      ],
    );
    const push = loadPlugins({
      requested: [],
      pluginPath,
      env: { ...env, CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough' },
      runs: ['webhook'],
    });
    assert.deepEqual(
      push.map((l) => l.plugin.name),
      ['webhook', 'twilio'],
    );
  });

  test('a plugin this process runs must be configured completely, each missing key named', () => {
    const problems = (runs: string[], env: NodeJS.ProcessEnv) => {
      try {
        loadPlugins({ requested: [], pluginPath, env, runs });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    assert.match(problems(['webhook'], {}), /CLARION_WEBHOOK_SECRET: /);
    // Token auth with the .p8 under the certificate key's name: refused at start, not at the first send.
    const apns = problems(['apns'], {
      CLARION_APNS_TEAM_ID: 'ABCDE12345',
      CLARION_APNS_KEY_ID: 'KEY1234567',
      CLARION_APNS_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----',
    });
    assert.match(apns, /CLARION_APNS_SIGNING_KEY: token auth needs/);
    assert.match(apns, /CLARION_APNS_PRIVATE_KEY: is certificate auth/);
    assert.match(
      problems(['apns'], { CLARION_APNS_CERTIFICATE: 'pem' }),
      /CLARION_APNS_PRIVATE_KEY: certificate auth needs/,
    );
    assert.match(
      problems(['webpush'], { CLARION_WEBPUSH_VAPID_PUBLIC_KEY: 'B'.repeat(87) }),
      /CLARION_WEBPUSH_VAPID_PRIVATE_KEY: a VAPID key pair needs both/,
    );
    // A variable that is no setting of the plugin (the service account under a wrong name).
    assert.match(
      problems(['fcm'], { CLARION_FCM_SERVICE_ACCOUNT_FILE: '/run/secrets/sa.json' }),
      /CLARION_FCM_SERVICE_ACCOUNT_FILE: not a setting of plugin "fcm" \(its settings: CLARION_FCM_SERVICE_ACCOUNT_JSON, /,
    );
    assert.match(problems(['pager'], {}), /CLARION_WORKER_PLUGINS names plugins that are not loaded: pager/);
  });

  test('`clarion start` with a plugin it cannot load stops with the message, before anything listens', () => {
    const main = join(__dirname, '..', 'cli', 'main.js');
    const run = spawnSync(process.execPath, [main, 'start'], {
      env: {
        PATH: process.env.PATH,
        // Nothing listens on this port: the process must stop at the plugins, before the database.
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
        REDIS_URL: 'redis://127.0.0.1:1',
        CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
        CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        CLARION_PLUGINS: '@clarion/plugin-webhook,@acme/clarion-plugin-future',
        CLARION_PLUGIN_PATH: pluginPath,
        CLARION_WEBHOOK_SECRET: 'a-webhook-secret-long-enough',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /^clarion: plugin "future" \(@acme\/clarion-plugin-future\) needs @clarion\/plugin-sdk \^9\.0\.0/,
    );
    assert.doesNotMatch(run.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
});
