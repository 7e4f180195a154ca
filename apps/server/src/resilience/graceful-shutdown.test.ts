import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { runMigrations } from '../database/data-source';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { OwnRedis } from '../testing/own-redis';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const NOTIFICATIONS = 60;
const CONCURRENCY = 20;

const WORKER_ENV = {
  CLARION_JOB_LOCK_MS: '2000',
  CLARION_SWEEP_INTERVAL_MS: '500',
  CLARION_SWEEP_AFTER_MS: '1000',
  CLARION_WORKER_CONCURRENCY: String(CONCURRENCY),
  CLARION_MIGRATE_ON_START: 'false',
  CLARION_WEBHOOK_TIMEOUT_MS: '10000',
};

describe('a worker stopped with SIGTERM mid-run', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    h = await startHarness({ role: 'api', label: 'graceful' });
    app = await h.createApp();
    assert.equal(
      (await app.call('/v1/users/g1', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/g1` } }))
        .status,
      201,
    );
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  const countByStatus = async () =>
    Object.fromEntries(
      (
        await sql<{ status: string; n: string }>(
          h.db.url,
          'SELECT status, count(*) AS n FROM deliveries GROUP BY status',
        )
      ).map((r) => [r.status, Number(r.n)]),
    );

  test('finishes and records its in-flight sends before exiting; the next worker sends the rest, each once', async (t) => {
    // The first 20 sends take 1.5 s at the receiver: SIGTERM arrives while all of them are in flight.
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'g1', delayMs: 1500, times: CONCURRENCY });
    const worker = await processes.startClarion('worker-1', 'worker', h.childEnv(WORKER_ENV));
    const ids: string[] = [];
    for (let i = 0; i < NOTIFICATIONS; i += 20) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          app.call('/v1/notifications', {
            body: { to: { userId: 'g1' }, content: { webhook: { json: { n: i + j } } } },
          }),
        ),
      );
      for (const a of answers) {
        assert.equal(a.status, 202);
        ids.push((await json<{ id: string }>(a)).id);
      }
    }
    const taken = () => CONCURRENCY - (h.sandbox.behaviors.list().find((r) => r.to === 'g1')?.times ?? 0);
    await waitFor(
      'every worker slot busy at the receiver',
      () => h.sandbox.behaviors.list().length === 0 || taken() === CONCURRENCY,
    );
    assert.equal(h.sandbox.recorder.count({ outcome: 'accepted' }), 0, 'nothing answered yet');

    worker.kill('SIGTERM');
    const exit = await worker.exited;
    // Nest re-raises SIGTERM after its shutdown hooks; 143 would be an exit before the drain.
    assert.ok(exit === 0 || exit === 'SIGTERM', `clean exit, got ${exit}\n${worker.output()}`);

    // Right after the exit: what the receiver accepted is exactly what PostgreSQL says was sent.
    const receipts = receiptsById(h.sandbox);
    const byStatus = await countByStatus();
    assert.equal(h.sandbox.recorder.count({ outcome: 'aborted' }), 0, 'no in-flight send was cut');
    assert.equal(receipts.size, CONCURRENCY, 'the in-flight sends completed');
    assert.equal(byStatus.sent, CONCURRENCY, `the completed sends are recorded: ${JSON.stringify(byStatus)}`);
    assert.equal(byStatus.sent + (byStatus.queued ?? 0), NOTIFICATIONS, 'the rest still queued, none lost');

    await processes.startClarion('worker-2', 'worker', h.childEnv(WORKER_ENV));
    await waitFor('all sent', async () => (await countByStatus()).sent === NOTIFICATIONS, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    for (const id of ids) {
      const view = await json<{ summary: Record<string, number> }>(await app.call(`/v1/notifications/${id}`));
      assert.deepEqual(view.summary, { sent: 1 }, `notification ${id}`);
    }
    const final = receiptsById(h.sandbox);
    assert.equal(final.size, NOTIFICATIONS);
    assert.deepEqual(
      [...final.values()].filter((r) => r.accepted !== 1),
      [],
      'each delivery accepted exactly once',
    );
    t.diagnostic(
      `SIGTERM with ${CONCURRENCY} sends in flight: all finished and recorded before exit (${exit})`,
    );
  });
});

describe('a worker stopped with SIGTERM while Redis is away', () => {
  let h: Harness;
  let redis: OwnRedis;
  const processes = new Processes();
  before(async () => {
    redis = await OwnRedis.start(processes);
    h = await startHarness({ role: 'none', label: 'gracefulnoredis', env: { REDIS_URL: redis.url } });
    await runMigrations(h.db.url);
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  test('does not hang: exits after CLARION_SHUTDOWN_TIMEOUT_MS with code 1 when the drain cannot finish', async (t) => {
    const worker = await processes.startClarion(
      'worker',
      'worker',
      h.childEnv({ ...WORKER_ENV, CLARION_SHUTDOWN_TIMEOUT_MS: '2000' }),
    );
    await redis.down();
    worker.kill('SIGTERM');
    const exit = await Promise.race([
      worker.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref()),
    ]);
    assert.notEqual(exit, 'hung', `still running 30 s after SIGTERM\n${worker.output()}`);
    // Closing BullMQ needs Redis, so the drain cannot finish: the deadline ends the process.
    t.diagnostic(`exit: ${exit}`);
    assert.equal(exit, 1, worker.output());
    assert.match(worker.output(), /CLARION_SHUTDOWN_TIMEOUT_MS/);
  });
});
