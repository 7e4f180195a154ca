import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
} from '@clarion/testkit';
import { Client } from 'pg';
// Answers from the processes this file starts are checked against the OpenAPI document.
import '../testing/checked-fetch';

const main = join(__dirname, 'main.js');

test('`clarion sandbox` serves the fake providers (loaded only by this command, never by `clarion start`)', async () => {
  const child = spawn(process.execPath, [main, 'sandbox', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line; output: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /sandbox listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('`clarion migrate`, `clarion apps create`, `clarion keys create` (the operator CLI)', () => {
  let db: TestDatabase;
  let api: ClarionProcess | undefined;
  const prefix = testPrefix('cli');
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
    CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    CLARION_QUEUE_PREFIX: prefix,
    CLARION_MIGRATE_ON_START: 'false',
    LOG_LEVEL: 'warn',
  });
  const clarion = (...args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { env: env(), encoding: 'utf8', timeout: 60_000 });

  before(async () => {
    db = await createTestDatabase('cli');
  });
  after(async () => {
    await api?.stop();
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  test('before migrate, apps create says to run it (no stack trace), exit 1', () => {
    const early = clarion('apps', 'create', '--name', 'Too early');
    assert.equal(early.status, 1);
    assert.match(
      early.stderr,
      /^clarion: the database has no Clarion tables yet .*run `clarion migrate` first\n$/,
    );
  });

  test('migrate applies every migration once, then finds the database up to date', () => {
    const first = clarion('migrate');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^applied: Init\d+, /);
    const again = clarion('migrate');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim(), 'database is up to date');
  });

  test('apps create and keys create print a key once; the server accepts it, and stores only a hash', async () => {
    const created = clarion('apps', 'create', '--name', 'Shop');
    assert.equal(created.status, 0, created.stderr);
    const app = JSON.parse(created.stdout) as { appId: string; appKey: string; appSecret: string };
    const made = clarion('keys', 'create', '--app', app.appId, '--kind', 'server', '--name', 'billing');
    assert.equal(made.status, 0, made.stderr);
    const key = JSON.parse(made.stdout) as { kind: string; appKey: string; appSecret: string };
    assert.equal(key.kind, 'server');

    api = await startClarionProcess({ main, role: 'api', env: env(), output: 'capture' });
    const call = (appKey: string, secret: string) =>
      fetch(`${api!.url}/v1/users/nobody`, {
        headers: { authorization: `Basic ${Buffer.from(`${appKey}:${secret}`).toString('base64')}` },
      });
    assert.equal((await call(app.appKey, app.appSecret)).status, 404, 'the first key authenticates');
    assert.equal((await call(key.appKey, key.appSecret)).status, 404, 'the second key authenticates');
    assert.equal((await call(key.appKey, `${key.appSecret}x`)).status, 401, 'a wrong secret does not');

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ secret_hash: string }>('SELECT secret_hash FROM api_keys');
      assert.equal(rows.length, 2);
      for (const { secret_hash } of rows) {
        assert.ok(
          !secret_hash.includes(app.appSecret) && !secret_hash.includes(key.appSecret),
          'no plain secret',
        );
      }
    } finally {
      await client.end();
    }
  });

  const keyCount = async (): Promise<number> => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys')).rows[0]!.n;
    } finally {
      await client.end();
    }
  };

  test('a wrong option is a plain message naming it, exit 1, and creates nothing', async () => {
    const keysBefore = await keyCount();
    const before = clarion('keys', 'create', '--app', '00000000-0000-7000-8000-000000000000');
    assert.equal(before.status, 1);
    assert.equal(before.stderr, 'clarion: --app: no app 00000000-0000-7000-8000-000000000000\n');
    const kind = clarion(
      'keys',
      'create',
      '--app',
      '00000000-0000-7000-8000-000000000000',
      '--kind',
      'admin',
    );
    assert.equal(kind.status, 1);
    assert.equal(kind.stderr, 'clarion: --kind: must be server or client\n');
    assert.doesNotMatch(`${before.stderr}${kind.stderr}`, /at .*\.js:\d+/, 'no stack trace');
    const missing = clarion('apps', 'create');
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /required option '--name <name>' not specified/);
    const blank = clarion('apps', 'create', '--name', '  ');
    assert.equal(blank.stderr, 'clarion: --name: 1 to 200 characters\n');
    const notId = clarion('keys', 'create', '--app', '123');
    assert.equal(notId.stderr, 'clarion: --app: not an app id (a UUID): 123\n');
    assert.equal(await keyCount(), keysBefore);
  });

  test('DATABASE_URL may come from DATABASE_URL_FILE (as the Helm migration job passes it)', async () => {
    const other = await createTestDatabase('clifile');
    const dir = mkdtempSync(join(tmpdir(), 'clarion-cli-'));
    try {
      writeFileSync(join(dir, 'database-url'), `${other.url}\n`);
      const run = spawnSync(process.execPath, [main, 'migrate'], {
        env: { PATH: process.env.PATH, DATABASE_URL_FILE: join(dir, 'database-url') },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^applied: Init\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await other.drop();
    }
  });

  test('a wrong or unreachable DATABASE_URL is one plain line naming it, exit 1', () => {
    const cases: [string, RegExp][] = [
      [
        'mysql://x@127.0.0.1/db',
        /^clarion: invalid configuration:\n {2}DATABASE_URL: must be a postgres:\/\/ URL\n$/,
      ],
      [
        'postgres://postgres@127.0.0.1:1/x',
        /^clarion: cannot reach PostgreSQL at DATABASE_URL: .*ECONNREFUSED/,
      ],
      [
        `${db.url.replace(/\/[^/]+$/, '/clarion_no_such_db')}`,
        /^clarion: PostgreSQL refused DATABASE_URL: database "clarion_no_such_db" does not exist\n$/,
      ],
    ];
    for (const [url, expected] of cases) {
      const run = spawnSync(process.execPath, [main, 'migrate'], {
        env: { PATH: process.env.PATH, DATABASE_URL: url },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 1, url);
      assert.match(run.stderr, expected);
      assert.doesNotMatch(run.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
  });
});
