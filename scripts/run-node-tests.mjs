#!/usr/bin/env node
// Runs one package's compiled tests (dist/**/*.test.js) with Node's test runner:
// human-readable output on stdout, one JUnit XML per file in .test-results/ for the root summary.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  let found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found = found.concat(findTests(path));
    else if (entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const files = findTests('dist').sort();
rmSync('.test-results', { recursive: true, force: true });
if (files.length === 0) {
  console.log('no tests in this package');
  process.exit(0);
}
mkdirSync('.test-results', { recursive: true });
// Each file runs in a `node --test` process of its own, one after another (they share PostgreSQL,
// Redis and ports; parallelism comes from turbo across packages), in-process (isolation none):
// - `--test-force-exit` ends a file whose tests are done while a handle lingers (a BullMQ client
//   still reconnecting to a Redis a test stopped, bullmq#4656): one stuck socket must not hang the suite;
// - with the default process isolation that flag silently drops the tail of a file's results
//   (nodejs/node#64833: tests ran, verdicts lost, exit 0; CI totals varied by up to 10). In-process,
//   there is no child-to-parent stream to lose, and the JUnit file is flushed before the exit;
// - one process per file still keeps files from sharing module state.
const major = Number(process.versions.node.split('.')[0]);
const isolation = major >= 23 ? '--test-isolation=none' : '--experimental-test-isolation=none';
let failed = false;
for (const [index, file] of files.entries()) {
  const result = spawnSync(
    process.execPath,
    [
      '--test',
      isolation,
      '--test-timeout=300000',
      '--test-force-exit',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=junit',
      `--test-reporter-destination=.test-results/${String(index).padStart(3, '0')}.xml`,
      ...process.argv.slice(2),
      file,
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
