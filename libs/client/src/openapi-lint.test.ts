import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..');

test('openapi.json passes Spectral with the repository ruleset (.spectral.yaml), warnings included', () => {
  const run = spawnSync(
    join(root, 'node_modules', '.bin', 'spectral'),
    [
      'lint',
      'openapi.json',
      '--ruleset',
      join(root, '..', '..', '.spectral.yaml'),
      '--fail-severity',
      'warn',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(run.status, 0, `spectral found problems:\n${run.stdout}${run.stderr}`);
});
