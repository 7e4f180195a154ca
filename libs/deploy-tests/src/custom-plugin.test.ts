import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
} from '@clarion/testkit';
// Every answer from the Clarion processes started here is checked against the OpenAPI document.
import '@clarion/server/dist/testing/checked-fetch';
import { mustRender, one } from './helm';
import { deployDir } from './paths';

const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');
const IMAGE_PREFIX = '/app/plugins-extra';

/** A custom plugin as its author would publish it: the SDK is a peer dependency (it is not on the registry). */
const PLUGIN = `
const sdk = require('@clarion/plugin-sdk');
// zod as the SDK has it: this fixture must not need the registry for a dependency of its own.
const { z } = require(require.resolve('zod', { paths: [require.resolve('@clarion/plugin-sdk')] }));
exports.default = sdk.defineChannelPlugin({
  name: 'pager', version: '1.2.3', sdkVersion: '^0.1.0', channel: 'pager', addressKind: 'url',
  config: z.object({ apiKey: z.string().min(8) }),
  async createSender() { return { async send() { return {}; }, async close() {} }; },
});`;

/**
 * The two documented ways to add a custom plugin run their `npm install` for real: the derived
 * image's RUN line (deploy/examples/Dockerfile.custom-plugin) and the chart's extraPlugins init
 * container. `--omit=peer` failed both with E404: npm still resolved the unpublished SDK.
 */
describe('custom plugin installs', () => {
  // Inside the repository: the installed plugin finds the server's SDK by walking up, as in /app.
  const root = mkdtempSync(join(__dirname, '.custom-plugin-'));
  const home = mkdtempSync(join(tmpdir(), 'clarion-npm-'));
  let tarball: string;
  let db: TestDatabase;
  const prefix = testPrefix('custom');
  before(async () => {
    const pkg = join(root, 'package-src');
    mkdirSync(pkg);
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@acme/clarion-plugin-pager',
        version: '1.2.3',
        main: 'index.js',
        peerDependencies: { '@clarion/plugin-sdk': '^0.1.0', 'prom-client': '^15.0.0' },
      }),
    );
    writeFileSync(join(pkg, 'index.js'), PLUGIN);
    const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', root], {
      cwd: pkg,
      encoding: 'utf8',
      env: { ...process.env, HOME: home, npm_config_cache: join(home, '.npm') },
    });
    assert.equal(packed.status, 0, packed.stderr);
    tarball = join(root, packed.stdout.trim().split('\n').pop()!);
    db = await createTestDatabase('customplugin');
    const migrated = spawnSync(process.execPath, [serverMain, 'migrate'], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    assert.equal(migrated.status, 0, migrated.stderr);
  });
  after(async () => {
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  /** Runs an install command as written, into `target` instead of /app/plugins-extra, with the fixture's tarball. */
  function install(command: string[], target: string): void {
    const args = command.map((a) =>
      a === IMAGE_PREFIX ? target : a === '@acme/clarion-plugin-pager@1.2.3' ? tarball : a,
    );
    assert.equal(args[0], 'npm');
    const run = spawnSync('npm', args.slice(1), {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, npm_config_cache: join(home, '.npm') },
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `${args.join(' ')}\n${run.stdout}\n${run.stderr}`);
    assert.ok(existsSync(join(target, 'node_modules', '@acme', 'clarion-plugin-pager', 'index.js')));
    assert.ok(
      !existsSync(join(target, 'node_modules', '@clarion', 'plugin-sdk')),
      'the server’s SDK is used, not a copy',
    );
  }

  /** A worker with the installed plugin becomes ready (it loads and validates it). */
  async function runsWith(target: string): Promise<void> {
    const worker = await startClarionProcess({
      main: serverMain,
      role: 'worker',
      output: 'capture',
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        CLARION_ADMIN_TOKEN: 'an-admin-token-long-enough',
        CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        CLARION_QUEUE_PREFIX: prefix,
        CLARION_PLUGINS: '@acme/clarion-plugin-pager',
        CLARION_PLUGIN_PATH: join(target, 'node_modules'),
        CLARION_PAGER_API_KEY: 'pager-key-1234',
      },
    });
    try {
      assert.ok(worker.lines().some((l) => l.includes('running plugins: pager')));
    } finally {
      await worker.stop();
    }
  }

  test('the derived image’s RUN npm install works and the plugin loads', async () => {
    const dockerfile = readFileSync(join(deployDir, 'examples', 'Dockerfile.custom-plugin'), 'utf8');
    const run = /^RUN (npm install [^&]*?)\s*&&/ms.exec(dockerfile.replace(/\\\n/g, ' '));
    assert.ok(run, 'a RUN npm install line');
    const target = join(root, 'image');
    install(run[1]!.trim().split(/\s+/), target);
    await runsWith(target);
    const plugins = /^ENV CLARION_PLUGINS=(.*)$/m.exec(dockerfile)?.[1]?.split(',') ?? [];
    assert.ok(plugins.includes('@acme/clarion-plugin-pager'));
    assert.ok(
      plugins.length < 5,
      'names the plugins used, not every built-in (each named one must be configured)',
    );
  });

  test('the chart’s extraPlugins init container installs it and the plugin loads', async () => {
    const objects = mustRender(['--set', 'extraPlugins.packages[0]=@acme/clarion-plugin-pager@1.2.3']);
    const init = one(objects, 'Deployment', 'clarion-worker-default').spec.template.spec.initContainers[0];
    const target = join(root, 'init');
    install(init.command as string[], target);
    await runsWith(target);
  });
  test('the deploy README’s derived-image lines are the example’s, and its npm install works', async () => {
    const readme = readFileSync(join(deployDir, 'README.md'), 'utf8');
    const block = /see `examples\/Dockerfile\.custom-plugin`:\n\n((?: {8}.*\n)+)/.exec(readme)?.[1];
    assert.ok(block, 'the README’s Dockerfile lines');
    const instructions = (text: string) =>
      text
        .replace(/\\\n\s*/g, ' ')
        .split('\n')
        .map((l) => l.trim().replace(/\s+/g, ' '))
        .filter((l) => /^(RUN|USER|ENV) /.test(l));
    const example = readFileSync(join(deployDir, 'examples', 'Dockerfile.custom-plugin'), 'utf8');
    assert.deepEqual(instructions(block), instructions(example));
    const run = /^RUN (npm install [^&]*?)\s*&&/m.exec(instructions(block).join('\n'));
    assert.ok(run, 'a RUN npm install line');
    const target = join(root, 'readme');
    install(run[1]!.trim().split(/\s+/), target);
    await runsWith(target);
  });
});
