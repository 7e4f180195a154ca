// The end-to-end check: a real Prometheus scrapes a running Clarion (an API and a worker
// process, started as in production) while it is under load across channels — successes,
// provider failures, retries, suppressions, duplicates — and every dashboard panel's query
// returns data, so no panel ships broken.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pluginConfigToEnv } from '@clarion/plugin-sdk';
import { allFakes, Sandbox } from '@clarion/sandbox';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  freePort,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
  waitFor,
} from '@clarion/testkit';
// Every answer from the Clarion processes started here is checked against the OpenAPI document.
import '@clarion/server/dist/testing/checked-fetch';
import { dataPanels } from './dashboard';
import { dashboardLoad } from './dashboard-load';
import { repoRoot } from './paths';
import {
  query,
  type RunningPrometheus,
  startPrometheus,
  substituteGrafanaVariables,
  waitForTargetsUp,
} from './prometheus-server';

const serverMain = join(repoRoot, 'apps', 'server', 'dist', 'cli', 'main.js');
const PLUGINS = ['webhook', 'twilio', 'smtp'];

describe('Grafana dashboard against a running Clarion', () => {
  const processes: ClarionProcess[] = [];
  let prometheus: RunningPrometheus | undefined;
  let sandbox: Sandbox;
  let db: TestDatabase;
  const prefix = testPrefix('dash');
  const admin = randomBytes(18).toString('base64url');

  before(async () => {
    db = await createTestDatabase('dashboard');
    sandbox = await Sandbox.start({ fakes: allFakes() });
    const configs = sandbox.pluginConfigs();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      CLARION_ADMIN_TOKEN: admin,
      CLARION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLARION_QUEUE_PREFIX: prefix,
      CLARION_PLUGINS: PLUGINS.map((p) => `@clarion/plugin-${p}`).join(','),
      CLARION_MIGRATE_ON_START: 'false',
      // The sandbox's fakes listen on 127.0.0.1.
      CLARION_OUTBOUND_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'error',
      ...Object.assign({}, ...PLUGINS.map((p) => pluginConfigToEnv(p, configs[p] ?? {}))),
    };
    // Tracked links and the open pixel point at the API, so it must know its own address.
    const apiPort = await freePort();
    env.CLARION_PUBLIC_URL = `http://127.0.0.1:${apiPort}`;
    const migrated = spawnSync(process.execPath, [serverMain, 'migrate'], { env, encoding: 'utf8' });
    assert.equal(migrated.status, 0, migrated.stderr);
    processes.push(await startClarionProcess({ main: serverMain, role: 'api', env, port: apiPort }));
    processes.push(await startClarionProcess({ main: serverMain, role: 'worker', env }));
  });

  after(async () => {
    await prometheus?.stop();
    for (const p of processes) await p.stop();
    await sandbox?.stop();
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  test('every panel query returns data while Clarion is under load', async () => {
    const [api, worker] = processes as [ClarionProcess, ClarionProcess];
    prometheus = await startPrometheus([
      { job: 'clarion-api', address: new URL(api.url).host },
      { job: 'clarion-worker', address: new URL(worker.url).host },
    ]);
    await waitForTargetsUp(prometheus.url, ['clarion-api', 'clarion-worker']);

    const stats = await dashboardLoad({ api: api.url, admin, sandbox, seconds: 6 });
    assert.ok(stats.accepted > 0 && stats.duplicates > 0, JSON.stringify(stats));
    await waitFor('failed deliveries recorded', () => sandbox.recorder.count({ outcome: 'http_400' }) > 0);

    const url = prometheus.url;
    let empty: string[] = [];
    const deadline = Date.now() + 30_000;
    for (;;) {
      empty = [];
      for (const p of dataPanels) {
        for (const t of p.targets ?? []) {
          const result = await query(url, substituteGrafanaVariables(t.expr));
          assert.equal(result.status, 'success', `${p.title}: ${result.error}`);
          if ((result.data?.result ?? []).length === 0) empty.push(`${p.title} [${t.refId}]: ${t.expr}`);
        }
      }
      if (empty.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.deepEqual(empty, [], 'panels without data');
  });
});
