import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SDK_VERSION } from './version';

/** libs/plugin-sdk, from dist/. */
const PACKAGE_DIR = join(__dirname, '..');

test("SDK_VERSION is the SDK package's version (the host checks plugins' sdkVersion against it)", () => {
  const { version } = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(SDK_VERSION, version);
});
