import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FakeProvider } from '@clarion/plugin-sdk/testing';
import {
  clearPrefix,
  createTestDatabase,
  freePort,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
  waitFor,
} from '@clarion/testkit';
import { parse as parseYaml, stringify } from 'yaml';
import { mustRender, one } from './helm';
import { pnpmPack } from './packages';
import { repoRoot } from './paths';
import { type LocalRegistry, startVerdaccio } from './verdaccio';

/** Every command of docs/plugins.md, in order, as this test runs them. */
export const DOC_COMMANDS = [
  'clarion plugin new slack --scope @acme',
  'npm install',
  'npm run build',
  'npm test',
  'npm publish',
  'npm install --prefix /opt/clarion-plugins --omit=dev --omit=peer --no-fund --no-audit --no-save @acme/clarion-plugin-slack@1.0.0',
  'CLARION_PLUGINS=@acme/clarion-plugin-slack CLARION_PLUGIN_PATH=/opt/clarion-plugins/node_modules clarion start',
  'CLARION_PLUGINS=@clarion/plugin-webhook,@acme/clarion-plugin-slack CLARION_PLUGIN_PATH=/opt/clarion-plugins/node_modules clarion dev',
];
const PLUGINS_DIR = '/opt/clarion-plugins';
const docPath = join(repoRoot, 'docs', 'plugins.md');

/** The lines of the doc's `sh` blocks (comments and blank lines aside), and its `yaml` blocks. */
function docBlocks(): { commands: string[]; yaml: string[] } {
  const doc = readFileSync(docPath, 'utf8');
  const commands = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
  const yaml = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return { commands, yaml };
}

const hook = (secret: string) => `https://hooks.slack.com/services/T0001/B0001/${secret}`;

/**
 * docs/plugins.md end to end, against a real npm registry (verdaccio): the SDK and the example
 * plugin (examples/plugin-slack, outside the workspace) are published there, the example is built
 * and tested from the registry's SDK, installed as the doc and the chart install it, loaded by a
 * built server (no rebuild) and by dev mode, and sends to its fake Slack: `sent`, a dead webhook
 * disabled, a 429 retried after its Retry-After.
 */
describe('a custom channel plugin from a registry (docs/plugins.md)', () => {
  const root = mkdtempSync(join(tmpdir(), 'clarion-registry-'));
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  const author = join(root, 'clarion-plugin-slack');
  const plugins = join(root, 'plugins');
  const serverMain = join(repoRoot, 'apps', 'server', 'dist', 'cli', 'main.js');
  const prefix = testPrefix('registry');
  const children: ChildProcess[] = [];
  let registry: LocalRegistry;
  let db: TestDatabase;
  let npmEnv: NodeJS.ProcessEnv;

  const sh = (command: string, cwd: string, env: NodeJS.ProcessEnv = npmEnv) => {
    const run = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(run.status, 0, `${command}\n${run.stdout}\n${run.stderr}\nverdaccio:\n${registry.output()}`);
    return run.stdout;
  };
  const docCommand = (i: number) => DOC_COMMANDS[i]!.replaceAll(PLUGINS_DIR, plugins);
  /** A long-running doc command (`A=b clarion start`) as its own process, not under a shell, so signals reach it. */
  const spawnDocCommand = (i: number, env: NodeJS.ProcessEnv) => {
    const words = docCommand(i).split(/\s+/);
    const assigned: Record<string, string> = {};
    while (/^[A-Z_]+=/.test(words[0] ?? '')) {
      const [name, ...value] = words.shift()!.split('=');
      assigned[name!] = value.join('=');
    }
    const child = spawn(join(bin, words[0]!), words.slice(1), {
      cwd: root,
      env: { ...env, ...assigned },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  };

  before(async () => {
    mkdirSync(home);
    mkdirSync(bin);
    // `clarion` as the image's entry point runs it: the built server, not rebuilt for the plugin.
    writeFileSync(join(bin, 'clarion'), `#!/bin/sh\nexec "${process.execPath}" "${serverMain}" "$@"\n`);
    chmodSync(join(bin, 'clarion'), 0o755);
    const uplink = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim();
    registry = await startVerdaccio(join(root, 'registry'), uplink || 'https://registry.npmjs.org/');
    npmEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      npm_config_cache: join(home, '.npm'),
      npm_config_userconfig: registry.userconfig,
      npm_config_update_notifier: 'false',
      TEST_REDIS_URL,
    };
    // The SDK as `pnpm publish` would publish it (workspace ranges replaced).
    sh(`npm publish ${pnpmPack(join(repoRoot, 'libs', 'plugin-sdk'), root)}`, root);
    cpSync(join(repoRoot, 'examples', 'plugin-slack'), author, {
      recursive: true,
      filter: (src) => !/\/(node_modules|dist)$/.test(src),
    });
    db = await createTestDatabase('registry');
    const migrated = spawnSync(process.execPath, [serverMain, 'migrate'], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    assert.equal(migrated.status, 0, migrated.stderr);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await registry?.stop();
    rmSync(root, { recursive: true, force: true });
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  test('docs/plugins.md runs exactly these commands', () => {
    assert.deepEqual(docBlocks().commands, DOC_COMMANDS);
  });

  test('the scaffold command writes a plugin package', () => {
    const scaffolds = join(root, 'scaffold');
    mkdirSync(scaffolds);
    sh(DOC_COMMANDS[0]!, scaffolds);
    const pkg = JSON.parse(readFileSync(join(scaffolds, 'clarion-plugin-slack', 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@acme/clarion-plugin-slack');
    assert.ok(existsSync(join(scaffolds, 'clarion-plugin-slack', 'src', 'plugin.test.ts')));
  });

  test('the author builds and tests the example from the registry’s SDK, then publishes it', () => {
    sh(DOC_COMMANDS[1]!, author);
    assert.ok(existsSync(join(author, 'node_modules', '@clarion', 'plugin-sdk', 'package.json')));
    sh(DOC_COMMANDS[2]!, author);
    const tested = sh(DOC_COMMANDS[3]!, author);
    assert.match(tested, /plugin conformance: slack/);
    assert.match(tested, /# fail 0|ℹ fail 0/);
    sh(DOC_COMMANDS[4]!, author);
    const manifest = JSON.parse(sh('npm view @acme/clarion-plugin-slack@1.0.0 --json', root)) as {
      peerDependencies: Record<string, string>;
    };
    assert.equal(manifest.peerDependencies['@clarion/plugin-sdk'], '^0.1.0');
  });

  test('installed as the doc says (--omit=peer works: the SDK is on the registry), without the SDK', () => {
    sh(docCommand(5), root);
    const installed = join(plugins, 'node_modules');
    assert.ok(existsSync(join(installed, '@acme', 'clarion-plugin-slack', 'dist', 'index.js')));
    assert.ok(!existsSync(join(installed, '@clarion', 'plugin-sdk')), 'the server’s SDK is used, not a copy');
    assert.ok(!existsSync(join(installed, 'zod')), 'the server’s zod is used');
  });

  test('installed by the chart’s init container, with the doc’s values', () => {
    const values = docBlocks().yaml.find((y) => y.includes('extraPlugins'));
    assert.ok(values, 'the doc gives the Helm values');
    const parsed = parseYaml(values) as { extraPlugins: { registry?: string } };
    parsed.extraPlugins.registry = registry.url;
    const file = join(root, 'values.yaml');
    writeFileSync(file, stringify(parsed));
    const objects = mustRender(['-f', file]);
    const init = one(objects, 'Deployment', 'clarion-worker-default').spec.template.spec.initContainers[0];
    const command = (init.command as string[]).map((a) =>
      a === '/app/plugins-extra' ? join(root, 'init') : a,
    );
    const env = Object.fromEntries(
      (init.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    assert.equal(env.npm_config_registry, registry.url);
    const run = spawnSync(command[0]!, command.slice(1), {
      env: { ...npmEnv, npm_config_registry: env.npm_config_registry },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(run.status, 0, `${command.join(' ')}\n${run.stdout}\n${run.stderr}`);
    assert.ok(
      existsSync(join(root, 'init', 'node_modules', '@acme', 'clarion-plugin-slack', 'dist', 'index.js')),
    );
  });

  test('a built server loads it and sends through it: sent, a dead webhook disabled, a 429 retried after Retry-After', async () => {
    // The example's own fake, from its build (the published package exports it as `/testing`).
    const { startFakeSlack } = require(join(author, 'dist', 'testing')) as {
      startFakeSlack(): Promise<FakeProvider>;
    };
    const slack = await startFakeSlack();
    const port = await freePort();
    const adminToken = 'an-admin-token-long-enough';
    const server = spawnDocCommand(6, {
      PATH: npmEnv.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      CLARION_ROLE: 'all',
      CLARION_ADMIN_TOKEN: adminToken,
      CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 2).toString('base64'),
      CLARION_QUEUE_PREFIX: prefix,
      CLARION_SHUTDOWN_DRAIN_MS: '0',
      CLARION_SLACK_ENDPOINT: slack.url,
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    let log = '';
    server.stdout.on('data', (c: Buffer) => (log += c.toString()));
    server.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const api = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        `the server ready (log: ${log.slice(-1500)})`,
        async () =>
          server.exitCode !== null ||
          (await fetch(`${api}/readyz`).then(
            (r) => r.ok,
            () => false,
          )),
        { timeoutMs: 60_000 },
      );
      assert.equal(server.exitCode, null, log);
      const call = async (path: string, init: { method?: string; body?: unknown; auth: string }) => {
        const res = await fetch(`${api}${path}`, {
          method: init.method ?? (init.body ? 'POST' : 'GET'),
          headers: { authorization: init.auth, ...(init.body ? { 'content-type': 'application/json' } : {}) },
          ...(init.body ? { body: JSON.stringify(init.body) } : {}),
        });
        const text = await res.text();
        assert.ok(res.ok, `${init.method ?? 'POST'} ${path}: ${res.status} ${text}`);
        return JSON.parse(text);
      };
      const listed = JSON.stringify(await call('/admin/plugins', { auth: `Bearer ${adminToken}` }));
      assert.match(listed, /"slack"/);
      assert.match(listed, /"1\.0\.0"/);
      // No provider settings: the plugin's own channel has one provider, the plugin.
      const { key } = await call('/admin/apps', { auth: `Bearer ${adminToken}`, body: { name: 'slack' } });
      const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
      const deliver = async (user: string) => {
        await call(`/v1/users/${user}`, {
          method: 'PUT',
          auth,
          body: { addresses: { slack: hook(user) } },
        });
        const { id } = await call('/v1/notifications', {
          auth,
          body: { to: { userId: user }, content: { slack: { text: 'Deploy finished' } } },
        });
        let deliveries: { plugin: string; status: string; channel?: string }[] = [];
        await waitFor(
          `the delivery to ${user} settled`,
          async () => {
            ({ deliveries } = await call(`/v1/notifications/${id}`, { auth }));
            return (
              deliveries.length > 0 &&
              deliveries.every((d) => !['pending', 'queued', 'retrying'].includes(d.status))
            );
          },
          { timeoutMs: 30_000 },
        );
        return deliveries;
      };

      const sent = await deliver('ok');
      assert.deepEqual(
        sent.map((d) => [d.channel, d.plugin, d.status]),
        [['slack', 'slack', 'sent']],
        log,
      );
      const posted = slack.requests.filter((r) => r.path === '/services/T0001/B0001/ok');
      assert.equal(posted.length, 1);
      assert.deepEqual(posted[0]!.json, { text: 'Deploy finished' }, 'content.slack as posted to Slack');

      const dead = await deliver('gone');
      assert.deepEqual(
        dead.map((d) => [d.plugin, d.status]),
        [['slack', 'failed']],
        log,
      );
      const user = (await call('/v1/users/gone', { auth })) as {
        contacts: { address: string; disabled: boolean }[];
      };
      assert.ok(
        user.contacts.some((c) => c.address === hook('gone') && c.disabled),
        `the dead webhook is disabled: ${JSON.stringify(user.contacts)}`,
      );

      const limited = await deliver('limited');
      assert.deepEqual(
        limited.map((d) => [d.plugin, d.status]),
        [['slack', 'sent']],
        log,
      );
      const tries = slack.requests.filter((r) => r.path === '/services/T0001/B0001/limited');
      assert.equal(tries.length, 2, 'a 429, then the retry');
      assert.ok(
        tries[1]!.at - tries[0]!.at >= 1000,
        `retried after Retry-After (1 s), not before: ${tries[1]!.at - tries[0]!.at} ms`,
      );
      const metrics = await (await fetch(`${api}/metrics`)).text();
      const counted = metrics
        .split('\n')
        .filter((l) => l.startsWith('clarion_plugin_send_attempts_total{') && l.includes('plugin="slack"'));
      assert.ok(
        counted.some(
          (l) => l.includes('channel="slack"') && l.includes('result="throttled"') && / [1-9]\d*$/.test(l),
        ),
        `the 429 is counted as throttled: ${counted.join('\n') || metrics.slice(0, 2000)}`,
      );
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
      await slack.close();
    }
  });

  test('dev mode loads it from the same folder', async () => {
    const port = await freePort();
    const adminToken = 'a-dev-admin-token-long-enough';
    const dev = spawnDocCommand(7, {
      PATH: npmEnv.PATH,
      HOME: home,
      DATABASE_URL: db.url,
      CLARION_DATA_DIR: join(root, 'dev-data'),
      CLARION_ADMIN_TOKEN: adminToken,
      CLARION_DEV_REDIS_PORT: String(await freePort()),
      CLARION_SANDBOX_PORT: String(await freePort()),
      PORT: String(port),
    });
    let out = '';
    dev.stdout.on('data', (c: Buffer) => (out += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await waitFor(
        `the dev banner (${out.slice(-800)})`,
        () => /Send a first notification/.test(out) || dev.exitCode !== null,
        {
          timeoutMs: 60_000,
        },
      );
      assert.match(out, /Send a first notification/, out);
      const res = await fetch(`http://127.0.0.1:${port}/admin/plugins`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.match(await res.text(), /"slack"/);
    } finally {
      dev.kill('SIGINT');
      await once(dev, 'exit');
    }
  });
});
