import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from './paths';

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Every workspace package: the image installs them, and the plugins are published on their own. */
const manifests: Array<{ dir: string; manifest: Manifest }> = ['apps', 'libs', 'plugins', 'bench']
  .flatMap((group) => {
    const dir = join(repoRoot, group);
    if (existsSync(join(dir, 'package.json'))) return [dir];
    return readdirSync(dir).map((name) => join(dir, name));
  })
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }));

/**
 * A dependency names a version: an exact one, or a caret or tilde range on one. `latest`, `*` or
 * any other tag resolves to whatever the registry holds on the day someone installs a published
 * plugin, so a provider SDK's next major could reach production untested.
 */
const PINNED = /^(workspace:[*^~]|[\^~]?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)$/;

describe('package manifests', () => {
  test('every workspace package is found', () => {
    const names = manifests.map((m) => m.manifest.name);
    for (const expected of [
      '@clarion/server',
      '@clarion/plugin-sdk',
      '@clarion/plugin-webhook',
      '@clarion/bench',
    ])
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  });

  test('no dependency floats on a tag such as "latest" or "*"', () => {
    const floating = manifests.flatMap(({ manifest }) =>
      (['dependencies', 'devDependencies', 'peerDependencies'] as const).flatMap((field) =>
        Object.entries(manifest[field] ?? {})
          .filter(([, spec]) => !PINNED.test(spec))
          .map(([dep, spec]) => `${manifest.name} ${field}.${dep}: "${spec}"`),
      ),
    );
    assert.deepEqual(floating, []);
  });
});
