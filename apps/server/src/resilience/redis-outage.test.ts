import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { OwnRedis } from '../testing/own-redis';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const USERS = 5;
const PER_PHASE = 60;

interface Answer {
  status: number;
  body: { id?: string; error?: { code: string; message: string; details?: unknown } };
}

describe('Redis stopped for a while during ingest', () => {
  let h: Harness;
  let app: TestApp;
  let redis: OwnRedis;
  const processes = new Processes();
  before(async () => {
    redis = await OwnRedis.start(processes);
    h = await startHarness({
      label: 'redisoutage',
      env: {
        REDIS_URL: redis.url,
        CLARION_SWEEP_INTERVAL_MS: '500',
        CLARION_SWEEP_AFTER_MS: '1000',
        CLARION_JOB_LOCK_MS: '1500',
        // A slow drain, so jobs are waiting in Redis when it dies.
        CLARION_WORKER_CONCURRENCY: '4',
      },
    });
    app = await h.createApp();
    for (let i = 1; i <= USERS; i++) {
      assert.equal(
        (
          await app.call(`/v1/users/r${i}`, {
            method: 'PUT',
            body: { webhookUrl: `${h.sandbox.url}/webhook/r${i}` },
          })
        ).status,
        201,
      );
    }
  });
  after(async () => {
    // A server closes its queues through Redis: bring it back if a failure left it down.
    if (!redis.running) await redis.up().catch(() => undefined);
    await h.close();
    await processes.killAll();
  });

  /** One notification; a request that does not answer in 10 s fails the test (it must not hang on Redis). */
  const send = async (n: number): Promise<Answer> => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: `r${(n % USERS) + 1}` }, content: { webhook: { json: { n } } } },
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: await json<Answer['body']>(res) };
  };
  const sendPhase = async (from: number): Promise<Answer[]> => {
    const answers: Answer[] = [];
    for (let i = from; i < from + PER_PHASE; i += 10)
      answers.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => send(i + j)))));
    return answers;
  };
  const ready = async () => {
    const res = await fetch(`${h.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
    return {
      status: res.status,
      body: await json<{
        details?: Record<string, { status: string }>;
        error?: Record<string, { status: string }>;
      }>(res),
    };
  };

  test('every 202 is sent exactly once after Redis comes back empty; refusals are 503 with the error shape; /readyz follows Redis', async (t) => {
    // 4 in flight at 150 ms each: ~27 sends/s, so the 55 left take ~2 s to drain, far longer than
    // stopping Redis takes even when the machine is slow (at 50 ms all could go before it stopped).
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: 150 });
    assert.equal((await ready()).status, 200);

    const before = await sendPhase(0);
    assert.ok(before.every((a) => a.status === 202));
    // Some sent, the rest still waiting in Redis: both kinds must survive the outage.
    await waitFor('some sent', () => h.sandbox.recorder.count({ outcome: 'accepted' }) >= 5);
    await redis.down();
    const queuedInRedis = (
      await sql<{ n: string }>(h.db.url, `SELECT count(*) AS n FROM deliveries WHERE status = 'queued'`)
    )[0]!.n;
    assert.ok(Number(queuedInRedis) > 0, 'some jobs were only in Redis when it died');

    const during = await sendPhase(PER_PHASE);
    const outage = await ready();
    assert.equal(outage.status, 503);
    assert.equal((outage.body.details ?? outage.body.error)?.redis?.status, 'down');
    await new Promise((r) => setTimeout(r, 2000)); // a while: sweeps and stalled checks run against a dead Redis
    // A request's deliveries are written `queued` and their jobs added after the commit: those
    // accepted now stay `queued` without a job (the queue reconciler's to re-add), none `pending`.
    const acceptedDuring = during.filter((a) => a.status === 202).map((a) => a.body.id!);
    const byStatus = await sql<{ status: string; n: string }>(
      h.db.url,
      `SELECT status, count(*) AS n FROM deliveries WHERE notification_id = ANY($1::uuid[]) GROUP BY status`,
      [acceptedDuring],
    );
    assert.deepEqual(
      byStatus.map((r) => [r.status, Number(r.n)]),
      acceptedDuring.length > 0 ? [['queued', acceptedDuring.length]] : [],
    );

    await redis.up(); // empty: nothing was persisted
    await waitFor('ready again', async () => (await ready()).status === 200, {
      intervalMs: 200,
    });
    const afterwards = await sendPhase(2 * PER_PHASE);

    const all = [...before, ...during, ...afterwards];
    for (const a of all) {
      if (a.status === 202) continue;
      assert.equal(a.status, 503, `only 202 or 503, got ${a.status} ${JSON.stringify(a.body)}`);
      assert.equal(typeof a.body.error?.code, 'string');
      assert.equal(typeof a.body.error?.message, 'string');
    }
    const accepted = all.filter((a) => a.status === 202).map((a) => a.body.id!);
    assert.equal(new Set(accepted).size, accepted.length);
    assert.ok(
      afterwards.every((a) => a.status === 202),
      'accepting again once Redis is back',
    );

    let states: Record<string, number> = {};
    await waitFor(
      'every accepted notification sent',
      async () => {
        const views = await Promise.all(
          accepted.map(async (id) =>
            json<{ summary: Record<string, number> }>(await app.call(`/v1/notifications/${id}`)),
          ),
        );
        states = {};
        for (const v of views)
          states[JSON.stringify(v.summary)] = (states[JSON.stringify(v.summary)] ?? 0) + 1;
        return views.every((v) => v.summary.sent === 1 && Object.keys(v.summary).length === 1);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; notifications by delivery states: ${JSON.stringify(states)}`);
    });
    const receipts = receiptsById(h.sandbox);
    for (const id of accepted) {
      const got = [...receipts.values()].filter((r) => r.notificationId === id);
      assert.equal(got.length, 1, `notification ${id} has one delivery at the receiver`);
      assert.equal(got[0]!.accepted, 1, `notification ${id} received exactly once`);
    }
    t.diagnostic(
      `202 before/during/after the outage: ${before.filter((a) => a.status === 202).length}/${during.filter((a) => a.status === 202).length}/${afterwards.length}; 503 during: ${during.filter((a) => a.status === 503).length}`,
    );
  });
});
