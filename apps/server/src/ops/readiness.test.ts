import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { type Harness, startHarness, type TestApp } from '../testing/harness';
import { OwnRedis } from '../testing/own-redis';
import { Processes } from '../testing/processes';

const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status;

describe('readiness of API and worker processes, and a stopping API', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  let redis: OwnRedis;
  before(async () => {
    h = await startHarness({ role: 'api', label: 'readiness' });
    app = await h.createApp();
    const user = await app.call('/v1/users/r1', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/r1` },
    });
    assert.equal(user.status, 201);
    redis = await OwnRedis.start(processes);
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  const send = () =>
    app.call('/v1/notifications', {
      body: { to: { userId: 'r1' }, content: { webhook: { json: { n: 1 } } } },
    });

  test('with Redis stopped, the API stays ready (it accepts durably in PostgreSQL) and a worker is not', async () => {
    const env = h.childEnv({ REDIS_URL: redis.url, CLARION_MIGRATE_ON_START: 'false' });
    const api = await processes.startClarion('api', 'api', env);
    const worker = await processes.startClarion('worker', 'worker', env);
    await redis.down();
    await waitFor('the worker unready', async () => (await readyz(worker.url)) === 503);
    assert.equal(await readyz(api.url), 200, 'the API stays in its Service');
    h.useApi(api.url);
    assert.equal((await send()).status, 202, 'and accepts');
    const body = (await (await fetch(`${worker.url}/readyz`)).json()) as { error?: Record<string, unknown> };
    assert.ok(body.error?.redis, JSON.stringify(body));
    // Where the outage shows for the API: its metrics (alert ClarionRedisDown).
    assert.match(
      await (await fetch(`${api.url}/metrics`, { signal: AbortSignal.timeout(15_000) })).text(),
      /^clarion_redis_up\{[^}]*\} 0$/m,
    );
    await redis.up();
    await waitFor('the worker ready again', async () => (await readyz(worker.url)) === 200);
    await waitFor('the API reaching Redis again', async () =>
      /^clarion_redis_up\{[^}]*\} 1$/m.test(await (await fetch(`${api.url}/metrics`)).text()),
    );
  });

  test('SIGTERM: readiness fails at once, requests are still accepted during the drain window, then exit 0', async () => {
    const env = h.childEnv({ CLARION_MIGRATE_ON_START: 'false', CLARION_SHUTDOWN_DRAIN_MS: '4000' });
    const api = await processes.startClarion('draining-api', 'api', env);
    h.useApi(api.url);
    assert.equal((await send()).status, 202);
    api.kill('SIGTERM');
    await waitFor('readiness failing', async () => (await readyz(api.url)) === 503);
    for (let i = 0; i < 3; i++) assert.equal((await send()).status, 202, 'still serving, out of rotation');
    assert.equal(api.child.exitCode, null, 'still running within the window');
    assert.equal(await api.exited, 0, api.output());
  });
});
