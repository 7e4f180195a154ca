#!/usr/bin/env node
// `pnpm test`: builds everything, runs every package's tests through turbo, checks lint and
// format (Biome), then sums the JUnit results of all suites into one closing line: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const turbo = join(root, 'node_modules', '.bin', 'turbo');
const extra = process.argv.slice(2);
const run = spawnSync(
  turbo,
  ['run', 'test', '--concurrency=2', '--continue', '--output-logs=full', ...extra],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: '0' },
  },
);

// The container image, built and run with podman (deploy/test/image.mjs), after the unit tests:
// its JUnit file joins the summary as "deploy/test". Skipped (one line) where podman is absent;
// not run when the arguments narrow the run to some packages.
const imageResults = join(root, 'deploy', 'test', '.test-results');
rmSync(imageResults, { recursive: true, force: true });
mkdirSync(imageResults, { recursive: true });
let imageFailed = false;
if (extra.length === 0) {
  const started = Date.now();
  const image = spawnSync(
    process.execPath,
    [
      '--test',
      '--test-force-exit',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=junit',
      `--test-reporter-destination=${join(imageResults, 'image.xml')}`,
      join(root, 'deploy', 'test', 'image.mjs'),
    ],
    { cwd: root, stdio: 'inherit' },
  );
  imageFailed = image.status !== 0;
  console.log(`image test: ${Math.round((Date.now() - started) / 1000)} s`);
}

let passed = 0;
let failed = 0;
const perSuite = [];
const suiteName = (group, pkg) => (group === '.' ? pkg : `${group}/${pkg}`);
// The failing cases, named again at the end: CI logs are often read from the tail only.
const failures = [];
// Every workspace package, as pnpm-workspace.yaml lists them (`dir/*` a folder of packages, else one
// package), and deploy/test, where the image test writes its results. Each is [folder, package].
const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
const patterns = [
  ...(/^packages:\n((?:\s+-.*\n)+)/m.exec(workspace)?.[1] ?? '').matchAll(/-\s*['"]?([^'"\n]+)/g),
].map((m) => m[1].trim());
const packages = patterns.flatMap((pattern) => {
  if (!pattern.endsWith('/*')) return [['.', pattern]];
  const group = pattern.slice(0, -2);
  return existsSync(join(root, group)) ? readdirSync(join(root, group)).map((pkg) => [group, pkg]) : [];
});
packages.push(['deploy', 'test']);
for (const [group, pkg] of packages) {
  const dir = join(root, group);
  const results = join(dir, pkg, '.test-results');
  if (!existsSync(results)) continue;
  // One JUnit file per test file (scripts/run-node-tests.mjs).
  const xml = readdirSync(results)
    .filter((name) => name.endsWith('.xml'))
    .map((name) => readFileSync(join(results, name), 'utf8'))
    .join('\n');
  // Leaf test cases only: node's junit reporter nests suites as <testsuite>, tests as <testcase>.
  // It leaves `>` unescaped in attribute values (a test named "… before </body>"), so attributes
  // are read as quoted strings: a bare [^>]* would end the tag inside the name and merge cases.
  const cases = xml.match(/<testcase\b(?:"[^"]*"|[^>"])*?(\/>|>[\s\S]*?<\/testcase>)/g) ?? [];
  let p = 0;
  let f = 0;
  for (const c of cases) {
    if (/<failure\b/.test(c)) {
      f++;
      failures.push(`${suiteName(group, pkg)}: ${describeFailure(c)}`);
    } else if (!/<skipped\b/.test(c)) p++;
  }
  perSuite.push(`${suiteName(group, pkg)}: ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
}
// Lint and format (Biome) are part of the test run: CI fails on them like on a test.
const biome = join(root, 'node_modules', '.bin', 'biome');
const lint = spawnSync(biome, ['check', '.'], { cwd: root, stdio: 'inherit' });
const lintOk = lint.status === 0;
perSuite.push(`lint (biome check): ${lintOk ? '1 passed, 0 failed' : '0 passed, 1 failed'}`);
if (lintOk) passed++;
else failed++;

if (failures.length > 0) {
  console.log('\nFailed tests:');
  for (const line of failures) console.log(`  ✖ ${line}`);
}
console.log('\nTest suites:');
for (const line of perSuite) console.log(`  ${line}`);
const turboFailed = run.status !== 0;
// a suite that crashed before reporting still fails the run
if ((turboFailed || imageFailed) && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(turboFailed || imageFailed || failed > 0 ? 1 : 0);

// "<suite> › <test> (<file>): <the failure message on one line>", from one <testcase> element.
function describeFailure(testcase) {
  const attr = (tag, name) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1] ?? '';
  const open = testcase.match(/^<testcase\b(?:"[^"]*"|[^>"])*/)?.[0] ?? '';
  const failure = testcase.match(/<failure\b(?:"[^"]*"|[^>"])*/)?.[0] ?? '';
  const message = unescapeXml(attr(failure, 'message')).replace(/\s+/g, ' ').slice(0, 300);
  const file = attr(open, 'file').replace(root, '');
  // Node escapes a test's name twice (`"` arrives as &amp;quot;), hence the second pass.
  const name = unescapeXml(unescapeXml(attr(open, 'name')));
  return `${unescapeXml(attr(open, 'classname'))} › ${name} (${file}): ${message}`;
}

function unescapeXml(text) {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, code) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}
