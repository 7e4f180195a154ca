import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { pnpmPack, publishablePackageDirs, tarballFiles, tarballManifest } from './packages';
import { repoRoot } from './paths';

/**
 * What a plugin author or operator gets from the registry: the tarballs `pnpm pack` makes (as
 * `pnpm publish` would), checked for what they hold and what their package.json promises.
 */
describe('published packages', () => {
  const dest = mkdtempSync(join(tmpdir(), 'clarion-pack-'));
  after(() => rmSync(dest, { recursive: true, force: true }));

  for (const dir of publishablePackageDirs()) {
    const own = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    test(`${own.name}: no compiled tests, a README and a CHANGELOG, Node and peers stated`, () => {
      const tarball = pnpmPack(dir, dest);
      const files = tarballFiles(tarball);
      const tests = files.filter((f) => /\.test\.(js|d\.ts|js\.map)$/.test(f));
      assert.deepEqual(tests, [], `${basename(tarball)} ships compiled tests`);
      assert.ok(files.includes('dist/index.js'), `${basename(tarball)} has its entry point`);
      assert.ok(files.includes('README.md'), `${basename(tarball)} has a README`);
      assert.ok(files.includes('CHANGELOG.md'), `${basename(tarball)} has a CHANGELOG`);

      const manifest = tarballManifest(tarball);
      assert.equal(manifest.version, own.version);
      assert.match(String((manifest.engines as { node?: string } | undefined)?.node), />=\s*22/);
      assert.equal(manifest.clarion, undefined, 'no "clarion" block: nothing reads it');
      assert.doesNotMatch(JSON.stringify(manifest), /workspace:/, 'workspace ranges replaced');
      const peers = (manifest.peerDependencies ?? {}) as Record<string, string>;
      const deps = (manifest.dependencies ?? {}) as Record<string, string>;
      // One copy of each, the server's: zod (schemas checked with instanceof), prom-client (one registry).
      assert.ok(peers.zod, 'zod is a peer');
      assert.equal(deps.zod, undefined, 'zod is not a dependency');
      assert.ok(peers['prom-client'], 'prom-client is a peer');
      if (own.name !== '@clarion/plugin-sdk') {
        assert.match(peers['@clarion/plugin-sdk'] ?? '', /^\^\d+\.\d+\.\d+$/);
        assert.equal(deps['@clarion/plugin-sdk'], undefined, 'the SDK is not a dependency');
        assert.deepEqual(manifest.peerDependenciesMeta, { 'prom-client': { optional: true } });
      }
    });

    if (own.name !== '@clarion/plugin-sdk') {
      test(`${own.name}: version and SDK range come from package.json`, () => {
        const plugin = (require(dir) as { default: { version: string; sdkVersion: string } }).default;
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          version: string;
          peerDependencies: Record<string, string>;
        };
        assert.equal(plugin.version, pkg.version);
        assert.equal(plugin.sdkVersion, pkg.peerDependencies['@clarion/plugin-sdk']);
      });
    }
  }

  test('changesets version every package on its own', () => {
    const config = JSON.parse(readFileSync(join(repoRoot, '.changeset', 'config.json'), 'utf8')) as {
      fixed: unknown[];
      linked: unknown[];
    };
    assert.deepEqual(config.fixed, []);
    assert.deepEqual(config.linked, []);
  });

  test('every pending changeset has front matter naming workspace packages and a release type', () => {
    // What `changeset version` reads: a changeset whose front matter does not parse stops the release.
    const names = new Set<string>();
    for (const group of ['apps', 'libs', 'plugins'])
      for (const d of readdirSync(join(repoRoot, group))) {
        const manifest = join(repoRoot, group, d, 'package.json');
        if (existsSync(manifest))
          names.add((JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name);
      }
    const dir = join(repoRoot, '.changeset');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      const text = readFileSync(join(dir, file), 'utf8');
      const front = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
      assert.ok(front, `${file}: front matter between --- lines`);
      const releases = parseYaml(front[1]!) as Record<string, unknown> | null;
      assert.ok(releases && Object.keys(releases).length > 0, `${file}: names at least one package`);
      for (const [name, type] of Object.entries(releases)) {
        assert.ok(names.has(name), `${file}: ${name} is a package of this workspace`);
        assert.ok(
          ['major', 'minor', 'patch', 'none'].includes(String(type)),
          `${file}: ${name}: ${String(type)}`,
        );
      }
      assert.ok(text.slice(front[0].length).trim().length > 0, `${file}: says what changed`);
    }
  });

  test('the SDK reports the version of its package.json', () => {
    const sdk = require('@clarion/plugin-sdk') as { SDK_VERSION: string };
    const pkg = JSON.parse(readFileSync(join(publishablePackageDirs()[0]!, 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(sdk.SDK_VERSION, pkg.version);
  });
});
