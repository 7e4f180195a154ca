#!/usr/bin/env node
// Runs one package's compiled tests (dist/**/*.test.js) with Node's test runner:
// human-readable output on stdout, JUnit XML in .test-results/ for the root summary.
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
mkdirSync('.test-results', { recursive: true });
if (files.length === 0) {
  console.log('no tests in this package');
  process.exit(0);
}
// Files run one after another: they share PostgreSQL, Redis and ports; parallelism comes from turbo across packages.
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    '--test-timeout=300000',
    // A file whose tests are done exits even if a handle lingers (a BullMQ client still reconnecting
    // to a Redis a test stopped, bullmq#4656): one stuck socket must not hang the whole suite.
    '--test-force-exit',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=junit',
    '--test-reporter-destination=.test-results/junit.xml',
    ...process.argv.slice(2),
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
