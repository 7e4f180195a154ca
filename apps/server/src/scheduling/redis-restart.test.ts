import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pluginQueueName } from '@clarion/plugin-sdk';
import { freePort, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from '../testing/db';
import { type Harness, json, startHarness } from '../testing/harness';

/** A redis-server of our own (never the shared one) that the test may kill and restart. */
class PrivateRedis {
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'clarion-redis-'));
  constructor(
    readonly port: number,
    private readonly persistent: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
    ];
    args.push(
      ...(this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    );
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor('redis up', async () => {
      const r = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      r.on('error', () => undefined);
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  }

  /** SIGKILL: no chance to save anything beyond what the AOF already has. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Scheduled deliveries sit in Redis as delayed BullMQ jobs. With Redis persistence (production:
 * AOF) they survive a restart; without it the relay re-adds them from PostgreSQL when due.
 */
for (const persistent of [true, false]) {
  describe(`a scheduled notification across a Redis restart (${persistent ? 'AOF persistence' : 'no persistence: data lost'})`, () => {
    let redis: PrivateRedis;
    let h: Harness;
    after(async () => {
      await h?.close();
      await redis?.stop();
    });

    test('is sent once, when due', async () => {
      redis = new PrivateRedis(await freePort(), persistent);
      await redis.start();
      h = await startHarness({
        label: 'redis-restart',
        env: { REDIS_URL: redis.url, CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500' },
      });
      const app = await h.createApp();
      assert.equal(
        (
          await app.call('/v1/users/rr-user', {
            method: 'PUT',
            body: { webhookUrl: `${h.sandbox.url}/webhook/rr-user` },
          })
        ).status,
        201,
      );
      const sendAt = new Date(Date.now() + 4000).toISOString();
      const res = await app.call('/v1/notifications', {
        body: { to: { userId: 'rr-user' }, sendAt, content: { webhook: { json: { rr: true } } } },
      });
      assert.equal(res.status, 202);
      const { id } = await json<{ id: string }>(res);
      const [d] = await waitFor('queued', async () => {
        const rows = await sql<{ id: string; status: string }>(
          h.db.url,
          'SELECT id, status FROM deliveries WHERE notification_id = $1',
          [id],
        );
        return rows[0]?.status === 'queued' ? rows : undefined;
      });

      await redis.kill();
      await redis.start();
      const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue(pluginQueueName('webhook'), { connection: probe, prefix: h.prefix });
      try {
        assert.equal(
          await queue.getJobState(d!.id),
          persistent ? 'delayed' : 'unknown',
          persistent ? 'the delayed job survived' : 'the delayed job is gone',
        );
      } finally {
        await queue.close();
        probe.disconnect();
      }

      await waitFor(
        'received after the restart',
        () => h.sandbox.recorder.count({ provider: 'webhook', to: 'rr-user', outcome: 'accepted' }) === 1,
      );
      const [rec] = h.sandbox.recorder.list({ provider: 'webhook', to: 'rr-user', outcome: 'accepted' });
      assert.ok(Date.parse(rec!.receivedAt) >= Date.parse(sendAt) - 100, 'not before sendAt');
      await waitFor('sent', async () => {
        const [row] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM deliveries WHERE id = $1', [
          d!.id,
        ]);
        return row?.status === 'sent';
      });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(
        h.sandbox.recorder.count({ provider: 'webhook', to: 'rr-user', outcome: 'accepted' }),
        1,
        'sent once',
      );
    });
  });
}

describe('cancel while Redis is down', () => {
  let redis: PrivateRedis;
  let h: Harness;
  after(async () => {
    await h?.close();
    await redis?.stop();
  });

  test('is a 503 that changes nothing; once Redis is back the cancel works', async () => {
    redis = new PrivateRedis(await freePort(), false);
    await redis.start();
    h = await startHarness({ label: 'cancel-down', env: { REDIS_URL: redis.url } });
    const app = await h.createApp();
    assert.equal(
      (
        await app.call('/v1/users/cd-user', {
          method: 'PUT',
          body: { webhookUrl: `${h.sandbox.url}/webhook/cd-user` },
        })
      ).status,
      201,
    );
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'cd-user' },
        sendAt: new Date(Date.now() + 60_000).toISOString(),
        content: { webhook: { json: {} } },
      },
    });
    const { id } = await json<{ id: string }>(res);
    await waitFor(
      'queued',
      async () =>
        (
          await sql<{ status: string }>(
            h.db.url,
            'SELECT status FROM deliveries WHERE notification_id = $1',
            [id],
          )
        )[0]?.status === 'queued',
    );

    await redis.kill();
    const before = await sql(h.db.url, 'SELECT status, reason FROM deliveries WHERE notification_id = $1', [
      id,
    ]);
    const down = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(down.status, 503);
    assert.equal((await json<{ error: { code: string } }>(down)).error.code, 'unavailable');
    assert.deepEqual(
      await sql(h.db.url, 'SELECT status, reason FROM deliveries WHERE notification_id = $1', [id]),
      before,
    );
    assert.equal(
      (await json<{ status: string }>(await app.call(`/v1/notifications/${id}`))).status,
      'scheduled',
    );

    await redis.start();
    const up = await waitFor(
      'cancel accepted once Redis is back',
      async () => {
        const r = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
        return r.status === 200 ? r : undefined;
      },
      { intervalMs: 250 },
    );
    assert.deepEqual(await json(up), { id, status: 'canceled', canceled: 1, inFlight: 0, steps: 0 });
  });
});
