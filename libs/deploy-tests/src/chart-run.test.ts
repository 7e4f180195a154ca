import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
} from '@clarion/testkit';
import { Client } from 'pg';
import { type K8sObject, mustRender, one } from './helm';

const SECRETS = '/var/run/secrets/clarion/';
const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');

interface Container {
  args: string[];
  env: { name: string; value: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
}

/**
 * The chart's workloads run here as Kubernetes would run them: the image's entry point (`clarion`)
 * with the container's args, its ConfigMap and env, and its secrets as files, against a real
 * PostgreSQL and Redis. The migration hook once failed every `helm install`: it passes only
 * DATABASE_URL_FILE, which `clarion migrate` ignored.
 */
describe('the chart’s workloads, run for real', () => {
  let db: TestDatabase;
  let secrets: string;
  const prefix = testPrefix('chart');
  const objects = mustRender();
  before(async () => {
    db = await createTestDatabase('chartrun');
    secrets = mkdtempSync(join(tmpdir(), 'clarion-secrets-'));
  });
  after(async () => {
    rmSync(secrets, { recursive: true, force: true });
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  /** The process environment of a container: its ConfigMaps, its env, secret paths moved to files here. */
  function environment(container: Container): NodeJS.ProcessEnv {
    const contents: Record<string, string> = {
      DATABASE_URL_FILE: db.url,
      REDIS_URL_FILE: TEST_REDIS_URL,
      CLARION_ADMIN_TOKEN_FILE: 'an-admin-token-long-enough',
      CLARION_ENCRYPTION_KEY_FILE: Buffer.alloc(32, 1).toString('base64'),
    };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, one(objects, 'ConfigMap', from.configMapRef.name).data);
    }
    const own = { CLARION_QUEUE_PREFIX: prefix }; // this run's own keys on the shared test Redis
    for (const { name, value } of container.env) {
      if (!value.startsWith(SECRETS)) {
        env[name] = value;
        continue;
      }
      const file = join(secrets, value.slice(SECRETS.length));
      mkdirSync(dirname(file), { recursive: true });
      // A trailing newline, as `kubectl create secret --from-file` keeps it.
      writeFileSync(file, `${contents[name] ?? 'unused'}\n`);
      env[name] = file;
    }
    return { ...env, ...own };
  }
  const containerOf = (o: K8sObject): Container => o.spec.template.spec.containers[0] as Container;

  test('the migration hook Job migrates the database with what it is given', async () => {
    const container = containerOf(one(objects, 'Job', 'clarion-migrate'));
    const env = environment(container);
    assert.equal(env.DATABASE_URL, undefined, 'the job passes the database URL only as a file');
    assert.ok(env.DATABASE_URL_FILE);
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

  for (const deployment of ['clarion-api', 'clarion-worker-default']) {
    test(`the ${deployment} Deployment then starts and passes its readiness probe`, async () => {
      const workload = one(objects, 'Deployment', deployment);
      const container = containerOf(workload);
      const env = environment(container);
      // What startClarionProcess runs and polls: the container's command and its readiness probe.
      assert.deepEqual(container.args, ['start']);
      assert.equal(workload.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/readyz');
      const role = env.CLARION_ROLE as 'api' | 'worker';
      assert.ok(role === 'api' || role === 'worker', `role ${role}`);
      // It picks a free port (the chart's 3000 may be taken here) and resolves once /readyz answers 200.
      const proc = await startClarionProcess({ main: serverMain, role, env, output: 'capture' });
      try {
        assert.ok(
          proc.lines().some((l) => l.includes(`"role":"${role}"`)),
          'it runs the role the chart gives it',
        );
      } finally {
        await proc.stop();
      }
    });
  }
});
