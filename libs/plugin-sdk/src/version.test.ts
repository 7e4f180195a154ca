import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SDK_VERSION } from './version';

/** libs/plugin-sdk, from dist/. */
const PACKAGE_DIR = join(__dirname, '..');
const PLUGINS_DIR = join(PACKAGE_DIR, '..', '..', 'plugins');

const packageVersion = (dir: string): string =>
  (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;

test("SDK_VERSION is the SDK package's version (the host checks plugins' sdkVersion against it)", () => {
  assert.equal(SDK_VERSION, packageVersion(PACKAGE_DIR));
});

test("each built-in plugin's version constant is its package's version (reported in logs and /admin/plugins)", () => {
  const checked: string[] = [];
  for (const name of readdirSync(PLUGINS_DIR)) {
    const file = join(PLUGINS_DIR, name, 'src', 'version.ts');
    if (!existsSync(file)) continue;
    const declared = /=\s*'([^']+)'/.exec(readFileSync(file, 'utf8'))?.[1];
    assert.equal(declared, packageVersion(join(PLUGINS_DIR, name)), `plugins/${name}/src/version.ts`);
    checked.push(name);
  }
  assert.ok(checked.length >= 7, `checked ${checked.join(', ')}`);
});
