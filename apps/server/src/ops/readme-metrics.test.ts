import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Harness, startHarness } from '../testing/harness';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

/**
 * Every full metric name the README mentions; `clarion_x_{a,b}_total` stands for both names.
 * Names written as patterns (`clarion_<plugin>_…`, `…_in_flight`) are left out.
 */
function readmeMetricNames(): string[] {
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8').replace(
    /\b(clarion_[a-z0-9_]*_)\{([a-z0-9_,]+)\}([a-z0-9_]*)/g,
    (_all, head: string, alternatives: string, tail: string) =>
      alternatives
        .split(',')
        .map((a) => `${head}${a}${tail}`)
        .join(' '),
  );
  const names = [...readme.matchAll(/\bclarion_[a-z0-9_]*[a-z0-9]\b(?!<)/g)].map((m) => m[0]);
  return [...new Set(names)].filter((n) => !/^clarion_(queue_prefix|plugin_sdk)$/.test(n));
}

describe('the README names only metrics the server registers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ label: 'readme-metrics' });
  });
  after(() => h.close());

  test('each clarion_* name in the README is on /metrics', async () => {
    const names = readmeMetricNames();
    assert.ok(names.length >= 10, `found the README's metric names: ${names.join(', ')}`);
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const registered = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const missing = names.filter((n) => !registered.has(n));
    assert.deepEqual(missing, [], `README names metrics that do not exist: ${missing.join(', ')}`);
  });
});
