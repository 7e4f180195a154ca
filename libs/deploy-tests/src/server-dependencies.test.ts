import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './paths';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Generic HTTP clients the server uses itself too; every other plugin dependency is a provider's. */
const GENERIC = new Set(['undici']);

test('apps/server depends on no provider SDK: each is a dependency of its plugin only', () => {
  const server = Object.keys(manifest(join(repoRoot, 'apps', 'server')).dependencies ?? {});
  const providerSdks = readdirSync(join(repoRoot, 'plugins')).flatMap((d) =>
    Object.keys(manifest(join(repoRoot, 'plugins', d)).dependencies ?? {}).filter(
      (dep) => !dep.startsWith('@clarion/') && !GENERIC.has(dep),
    ),
  );
  // The callback parsers' SDKs among them: they moved into their plugins.
  for (const sdk of ['twilio', '@sendgrid/eventwebhook', '@vonage/auth'])
    assert.ok(providerSdks.includes(sdk), `${sdk} is a plugin's dependency`);
  assert.deepEqual(
    server.filter((dep) => providerSdks.includes(dep) || /^(@sendgrid|@vonage|@mailchimp)\//.test(dep)),
    [],
  );
});
