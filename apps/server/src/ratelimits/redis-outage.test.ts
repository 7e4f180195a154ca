import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@clarion/testkit';
import { Redis } from 'ioredis';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

/** A free TCP port for a Redis of our own (the shared one must never be stopped). */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor('own redis up', async () => {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Redis goes away while the API serves: quotas and caps keep limiting in-process (the
 * rate-limiter-flexible insurance limiter) instead of failing requests or letting everything through.
 */
describe('Redis outage: API quota and per-user caps keep working per process', () => {
  let h: Harness;
  let app: TestApp;
  let port: number;
  let redis: ChildProcess;

  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    // The API role is what quotas and caps run in (no workers: their recovery is the resilience tests' subject).
    h = await startHarness({
      label: 'rl-outage',
      role: 'api',
      env: {
        REDIS_URL: `redis://127.0.0.1:${port}`,
        CLARION_API_QUOTA: '8',
        CLARION_API_QUOTA_WINDOW_SECONDS: '3600',
      },
    });
    app = await h.createApp({ rateLimits: [{ channel: 'webhook', max: 1, perSeconds: 86_400 }] });
    await app.call('/v1/users/ivy', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/ivy` } });
    await stop(redis);
  });
  after(async () => {
    redis = await startRedis(port); // let workers and queues close cleanly
    await waitFor('ready again', async () => (await fetch(`${h.url}/readyz`)).status === 200);
    await h.close();
    await stop(redis);
  });

  test('with Redis down, notifications are still accepted and the cap still holds (1 goes, the next is rate_limited)', async () => {
    const first = await app.call('/v1/notifications', {
      body: { to: { userId: 'ivy' }, content: { webhook: { json: { n: 1 } } } },
    });
    assert.equal(first.status, 202);
    assert.equal((await json<{ deliveries: number }>(first)).deliveries, 1);
    const second = await app.call('/v1/notifications', {
      body: { to: { userId: 'ivy' }, content: { webhook: { json: { n: 2 } } } },
    });
    assert.equal(second.status, 202);
    const body = await json<{ status: string; deliveries: number; suppressed: number }>(second);
    assert.deepEqual([body.status, body.deliveries, body.suppressed], ['accepted', 0, 1]);
  });

  test('with Redis down, the API quota still answers with headers and refuses over the limit', async () => {
    const answers: Response[] = [];
    for (let i = 0; i < 7; i++) answers.push(await app.call('/v1/users/ivy'));
    const statuses = answers.map((a) => a.status);
    assert.ok(
      statuses.every((s) => s === 200 || s === 429),
      `no 5xx: ${statuses}`,
    );
    assert.equal(statuses.at(-1), 429, 'the in-process count (2 notifications + 7 reads) went over 8');
    assert.equal(statuses[5], 200, 'the first 8 counted in-process were allowed');
    assert.ok(answers.every((a) => a.headers.get('ratelimit-limit') === '8'));
  });
});
