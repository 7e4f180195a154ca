import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { mustRender, one } from './helm';

const SECRETS = '/var/run/secrets/clarion/';
const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');

/**
 * The pre-install hook runs before anything else of a release: if it fails, `helm install` fails.
 * Its container runs here as Kubernetes would run it (its args, its env, its secrets as files),
 * against a real PostgreSQL. It once failed: it passes DATABASE_URL_FILE, which `clarion migrate` ignored.
 */
describe('the chart’s migration Job, run for real', () => {
  let db: TestDatabase;
  let secrets: string;
  before(async () => {
    db = await createTestDatabase('migjob');
    secrets = mkdtempSync(join(tmpdir(), 'clarion-secrets-'));
  });
  after(async () => {
    rmSync(secrets, { recursive: true, force: true });
    await db.drop();
  });

  test('its command with its environment and mounted secrets migrates the database', async () => {
    const job = one(mustRender(), 'Job', 'clarion-migrate');
    const container = job.spec.template.spec.containers[0] as {
      args: string[];
      env: { name: string; value: string }[];
    };
    const contents: Record<string, string> = {
      DATABASE_URL_FILE: db.url,
      REDIS_URL_FILE: 'redis://127.0.0.1:1',
      CLARION_ADMIN_TOKEN_FILE: 'an-admin-token-long-enough',
      CLARION_ENCRYPTION_KEY_FILE: Buffer.alloc(32, 1).toString('base64'),
    };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const { name, value } of container.env) {
      if (!value.startsWith(SECRETS)) {
        env[name] = value;
        continue;
      }
      // The projected secret volume, as a directory of files.
      const file = join(secrets, value.slice(SECRETS.length));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${contents[name] ?? 'unused'}\n`); // a trailing newline, as `kubectl create secret --from-file` keeps
      env[name] = file;
    }
    assert.equal(env.DATABASE_URL, undefined, 'the job passes the database URL only as a file');
    assert.ok(env.DATABASE_URL_FILE, 'DATABASE_URL_FILE is set');

    const run = spawnSync(process.execPath, [serverMain, ...container.args], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^applied: Init\d+/);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('apps', 'deliveries', 'notifications')`,
      );
      assert.equal(rows[0]!.n, 3);
    } finally {
      await client.end();
    }
  });
});
