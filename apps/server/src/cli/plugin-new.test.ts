import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';

const main = join(__dirname, 'main.js');
const sdkDir = dirname(realpathSync(require.resolve('@clarion/plugin-sdk/package.json')));

/** The SDK's own dev dependencies stand in for `npm install` (offline, and the same versions the scaffold asks for). */
function linkDependencies(dir: string): void {
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@clarion'), { recursive: true });
  mkdirSync(join(modules, '@types'), { recursive: true });
  mkdirSync(join(modules, '.bin'), { recursive: true });
  symlinkSync(sdkDir, join(modules, '@clarion', 'plugin-sdk'));
  for (const dep of ['zod', 'prom-client', 'typescript', '@types/node'])
    symlinkSync(realpathSync(join(sdkDir, 'node_modules', dep)), join(modules, dep));
  symlinkSync(join(modules, 'typescript', 'bin', 'tsc'), join(modules, '.bin', 'tsc'));
}

describe('`clarion plugin new`', () => {
  const root = mkdtempSync(join(tmpdir(), 'clarion-scaffold-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'acme-chat');

  test('writes a package with the right peers, Node version and files', () => {
    const run = spawnSync(
      process.execPath,
      [main, 'plugin', 'new', 'acme-chat', '--dir', dir, '--scope', '@acme'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /next: cd .* && npm install && npm run build && npm test/);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    assert.equal(pkg.name, '@acme/clarion-plugin-acme-chat');
    assert.deepEqual(Object.keys(pkg.peerDependencies).sort(), ['@clarion/plugin-sdk', 'prom-client', 'zod']);
    assert.match(pkg.peerDependencies['@clarion/plugin-sdk'], /^\^\d+\.\d+\.0$/);
    assert.deepEqual(pkg.peerDependenciesMeta, { 'prom-client': { optional: true } });
    assert.equal(pkg.engines.node, '>=22');
    assert.ok(pkg.files.includes('!dist/**/*.test.*'), 'compiled tests stay out of the tarball');
    assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /CLARION_ACME_CHAT_API_KEY/);
  });

  test('the package builds and its tests (the conformance kit against its fake) pass', () => {
    linkDependencies(dir);
    const env = { ...process.env, npm_config_update_notifier: 'false' };
    const build = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8', env });
    assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
    const tested = spawnSync('npm', ['test'], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
    const output = `${tested.stdout}\n${tested.stderr}`;
    assert.equal(tested.status, 0, output);
    assert.match(output, /plugin conformance: acme-chat/);
    assert.match(output, /its channel is routable/);
    assert.match(output, /a 429 with Retry-After is retryable/);
    assert.match(output, /runs as a BullMQ worker/);
    assert.match(output, /ℹ fail 0/);
  });

  test('refuses a name that is not kebab-case, and a folder that is not empty', () => {
    const bad = spawnSync(process.execPath, [main, 'plugin', 'new', 'Acme_Chat', '--dir', join(root, 'x')], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^clarion: plugin name "Acme_Chat": kebab-case/m);
    const taken = spawnSync(process.execPath, [main, 'plugin', 'new', 'acme-chat', '--dir', dir], {
      encoding: 'utf8',
    });
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /exists and is not empty/);
  });
});
