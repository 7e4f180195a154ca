import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deployDir, repoRoot } from './paths';

// No Docker engine runs here: the Dockerfile is read and checked for the essentials.
const text = readFileSync(join(deployDir, 'Dockerfile'), 'utf8');
/** Instructions with continuation lines joined and comments dropped. */
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: (op ?? '').toUpperCase(), args: rest.join(' ') };
  });
const stages: Array<{ from: string; name?: string; body: typeof instructions }> = [];
for (const ins of instructions) {
  if (ins.op === 'FROM') {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(ins.args);
    stages.push({ from: m?.[1] ?? '', name: m?.[2], body: [] });
  } else stages.at(-1)?.body.push(ins);
}
const runtime = stages.at(-1);

describe('deploy/Dockerfile', () => {
  test('multi-stage on Node 24 slim, pinned by tag; the runtime copies only the deployed output of the build stage', () => {
    assert.ok(stages.length >= 2);
    assert.match(text, /^ARG NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim$/m);
    assert.match(text, /NODE_IMAGE=node:24\.\d+\.\d+-bookworm-slim@sha256:<digest>/, 'how to pin the digest');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile ARG
    for (const s of stages) assert.equal(s.from, '${NODE_IMAGE}');
    const copies = runtime?.body.filter((i) => i.op === 'COPY') ?? [];
    assert.deepEqual(
      copies.map((c) => c.args),
      ['--from=build /out /app'],
    );
  });

  test('production dependencies only, via pnpm deploy --prod, pnpm 12.4.2, frozen lockfile', () => {
    const build = stages.find((s) => s.name === 'build');
    const runs =
      build?.body
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n') ?? '';
    assert.match(runs, /pnpm@12\.4\.2/);
    assert.match(runs, /pnpm install --frozen-lockfile/);
    assert.match(runs, /pnpm turbo run build --filter=@clarion\/server\.\.\./);
    assert.match(runs, /pnpm --filter @clarion\/server deploy --prod .*\/out/);
    assert.match(runs, /test -f \/out\/dist\/cli\/main\.js/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    assert.equal(pkg.packageManager, 'pnpm@12.4.2', "the image pins the repository's pnpm");
  });

  test('the image ships what production runs: sources, tests, maps, declarations and dev mode are pruned', () => {
    const build = stages.find((s) => s.name === 'build');
    const runs =
      build?.body
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n') ?? '';
    for (const pruned of ['src', 'dist/dev', "'*.map'", "'*.d.ts'", "'*.test.js'", '.turbo', 'testing']) {
      assert.ok(runs.includes(pruned), pruned);
    }
    assert.match(runs, /\(test\|tests\|__tests__\|/, "packages' test folders (they hold PEM keys)");
    // Registry settings reach npm and pnpm as build secrets, never as layers of the image.
    assert.match(runs, /--mount=type=secret,id=npmrc,target=\/root\/\.npmrc/);
    assert.match(runs, /--mount=type=secret,id=ca,target=\/run\/secrets\/ca/);
    const copies = build?.body.filter((i) => i.op === 'COPY').map((i) => i.args) ?? [];
    assert.ok(
      copies[0]?.includes('.pnpmfile.cjs'),
      'the pnpmfile that keeps TypeScript out is read by pnpm fetch',
    );
  });

  test('OCI labels on the runtime image', () => {
    const labels = runtime?.body
      .filter((i) => i.op === 'LABEL')
      .map((i) => i.args)
      .join(' ');
    for (const key of [
      'title',
      'description',
      'source',
      'licenses',
      'version',
      'revision',
      'created',
      'base.name',
    ]) {
      assert.match(
        labels ?? '',
        new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`),
        key,
      );
    }
  });

  test('non-root user, tini as PID 1, the clarion CLI as entry point, a HEALTHCHECK on /healthz', () => {
    const ops = (op: string) => runtime?.body.filter((i) => i.op === op).map((i) => i.args) ?? [];
    assert.deepEqual(ops('USER'), ['10001:10001']);
    assert.match(ops('RUN').join(' '), /apt-get install .*tini/);
    assert.deepEqual(JSON.parse(ops('ENTRYPOINT')[0] ?? '[]'), [
      '/usr/bin/tini',
      '--',
      'node',
      '--heap-growing-percent=60',
      '/app/dist/cli/main.js',
    ]);
    assert.deepEqual(JSON.parse(ops('CMD')[0] ?? '[]'), ['start']);
    const health = ops('HEALTHCHECK')[0] ?? '';
    assert.match(health, /CMD .*\/healthz/);
    assert.deepEqual(ops('EXPOSE'), ['3000']);
    const env = ops('ENV').join(' ');
    assert.match(env, /NODE_ENV=production/);
    assert.match(env, /CLARION_PLUGIN_PATH=\/app\/plugins-extra\/node_modules/);
    // the USER comes after every RUN that needs root
    const lastRun = runtime?.body.map((i) => i.op).lastIndexOf('RUN') ?? -1;
    const user = runtime?.body.findIndex((i) => i.op === 'USER') ?? -1;
    assert.ok(user > lastRun);
  });

  test('the build context ignores node_modules, dist and .git; the custom-plugin example exists', () => {
    const ignore = readFileSync(join(deployDir, 'Dockerfile.dockerignore'), 'utf8');
    for (const p of ['**/node_modules', '**/dist', '.git']) assert.ok(ignore.split('\n').includes(p), p);
    const example = readFileSync(join(deployDir, 'examples', 'Dockerfile.custom-plugin'), 'utf8');
    assert.match(example, /npm install --prefix \/app\/plugins-extra .*--legacy-peer-deps/);
    assert.match(example, /USER 10001:10001/);
    assert.ok(existsSync(join(deployDir, 'README.md')));
  });
});
