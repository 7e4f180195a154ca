import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { EnvError, envSchema, loadEnv } from './env';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) dir = dirname(dir);
  return dir;
}

function problemsOf(source: NodeJS.ProcessEnv): string[] {
  try {
    loadEnv(source);
    return [];
  } catch (error) {
    assert.ok(error instanceof EnvError);
    return error.problems;
  }
}

describe('configuration from the environment', () => {
  test('defaults fill everything optional', () => {
    const env = loadEnv(valid);
    assert.equal(env.CLARION_ROLE, 'all');
    assert.equal(env.PORT, 3000);
    assert.equal(env.CLARION_QUEUE_PREFIX, '{clarion}');
    assert.equal(env.CLARION_TRUST_PROXY, false, 'forwarded headers are not believed unless asked');
    assert.equal(env.CLARION_CALLBACK_MAX_AGE_SECONDS, 300);
  });

  test('CLARION_TRUST_PROXY: true, false or a list of proxy addresses', () => {
    assert.equal(loadEnv({ ...valid, CLARION_TRUST_PROXY: 'true' }).CLARION_TRUST_PROXY, true);
    assert.equal(loadEnv({ ...valid, CLARION_TRUST_PROXY: 'no' }).CLARION_TRUST_PROXY, false);
    assert.deepEqual(
      loadEnv({ ...valid, CLARION_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).CLARION_TRUST_PROXY,
      ['10.0.0.0/8', '127.0.0.1'],
    );
  });

  test('outbound: strict by default; an allow-list entry that is not a CIDR, IP or name stops the start', () => {
    const env = loadEnv(valid);
    assert.equal(env.CLARION_OUTBOUND_ALLOW_PRIVATE, false);
    assert.deepEqual(env.CLARION_OUTBOUND_ALLOW, []);
    assert.deepEqual(
      loadEnv({ ...valid, CLARION_OUTBOUND_ALLOW: '10.1.0.0/16, hooks.internal' }).CLARION_OUTBOUND_ALLOW,
      ['10.1.0.0/16', 'hooks.internal'],
    );
    const problems = problemsOf({ ...valid, CLARION_OUTBOUND_ALLOW: '10.0.0.0/40' });
    assert.ok(
      problems.some((p) => p.startsWith('CLARION_OUTBOUND_ALLOW:')),
      problems.join('; '),
    );
  });

  test('every problem names its variable', () => {
    const problems = problemsOf({
      ...valid,
      PORT: 'eighty',
      CLARION_ROLE: 'boss',
      REDIS_URL: 'http://x',
      CLARION_ENCRYPTION_KEY: 'short',
    });
    for (const name of ['PORT', 'CLARION_ROLE', 'REDIS_URL', 'CLARION_ENCRYPTION_KEY']) {
      assert.ok(
        problems.some((p) => p.startsWith(`${name}:`)),
        `${name} in ${problems.join(' | ')}`,
      );
    }
    assert.deepEqual(problemsOf({}).sort(), [
      'CLARION_ADMIN_TOKEN: is required',
      'CLARION_ENCRYPTION_KEY: is required',
      'DATABASE_URL: is required',
      'REDIS_URL: is required',
    ]);
  });

  test('secrets can come from *_FILE (Kubernetes secrets mounted as files)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clarion-env-'));
    writeFileSync(join(dir, 'token'), 'token-from-a-mounted-file\n');
    const env = loadEnv({
      ...valid,
      CLARION_ADMIN_TOKEN: undefined,
      CLARION_ADMIN_TOKEN_FILE: join(dir, 'token'),
    });
    assert.equal(env.CLARION_ADMIN_TOKEN, 'token-from-a-mounted-file');
    assert.deepEqual(
      problemsOf({ ...valid, DATABASE_URL_FILE: join(dir, 'missing') }).map((p) => p.split(':')[0]),
      ['DATABASE_URL_FILE'],
    );
    rmSync(dir, { recursive: true, force: true });
  });

  test('a wrong value stops `clarion start` with a message naming the variable, no stack trace', () => {
    const main = join(__dirname, '..', 'cli', 'main.js');
    const run = spawnSync(process.execPath, [main, 'start'], {
      env: { PATH: process.env.PATH, ...valid, PORT: '99999' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^clarion: invalid configuration:\n\s+PORT: /);
    assert.doesNotMatch(run.stderr, /at .*\.js:\d+/);
  });

  test("the README's configuration reference lists every variable", () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });
});
