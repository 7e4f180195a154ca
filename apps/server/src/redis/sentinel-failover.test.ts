import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { OwnSentinels, SENTINEL_MASTER } from '../testing/own-sentinels';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const USERS = 4;
const PER_PHASE = 40;

describe('Redis through Sentinels, master killed and replica promoted', () => {
  let h: Harness;
  let app: TestApp;
  let sentinels: OwnSentinels;
  const processes = new Processes();
  before(async () => {
    sentinels = await OwnSentinels.start(processes);
    h = await startHarness({
      label: 'sentinel',
      env: {
        // Only the Sentinels say where the master is: this host and port lead nowhere.
        REDIS_URL: 'redis://127.0.0.1:1',
        REDIS_SENTINELS: sentinels.setting,
        REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
        CLARION_SWEEP_INTERVAL_MS: '500',
        CLARION_SWEEP_AFTER_MS: '1000',
        CLARION_JOB_LOCK_MS: '1500',
        // A slow drain, so jobs are waiting on the master when it dies.
        CLARION_WORKER_CONCURRENCY: '4',
        // Lists of more than 2 users and topics expand in a fan-out job.
        CLARION_FANOUT_THRESHOLD: '2',
      },
    });
    app = await h.createApp({
      rateLimits: [{ channel: 'webhook', category: 'marketing', max: 3, perSeconds: 86_400 }],
    });
    for (let i = 1; i <= USERS; i++) {
      const res = await app.call(`/v1/users/s${i}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/s${i}` },
      });
      assert.equal(res.status, 201);
      assert.ok((await app.call(`/v1/users/s${i}/topics/sentinel-news`, { method: 'PUT' })).ok);
    }
  });
  after(async () => {
    await h?.close();
    await processes.killAll();
  });

  interface Answer {
    status: number;
    body: { id?: string; error?: { code: string; message: string } };
  }
  const send = async (n: number): Promise<Answer> => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: `s${(n % USERS) + 1}` }, content: { webhook: { json: { n } } } },
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
  const accepted = (answers: Answer[]): string[] => {
    for (const a of answers)
      assert.equal(a.status, 202, `refused while the master was up: ${a.status} ${JSON.stringify(a.body)}`);
    return answers.map((a) => a.body.id!);
  };
  const allSent = async (ids: string[], what: string) => {
    let states: Record<string, number> = {};
    await waitFor(
      what,
      async () => {
        const views = await Promise.all(
          ids.map(async (id) =>
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
  };
  const ready = async () =>
    (await fetch(`${h.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined))?.status;

  test('notifications are sent through the master the Sentinels name, before, across and after a failover, each exactly once', async (t) => {
    assert.equal(await ready(), 200);
    const before = accepted(await sendPhase(0));
    await allSent(before, 'sent through the first master');

    // 4 in flight at 150 ms each: the phase takes about 2 s to drain, so jobs are still waiting on
    // the master (some not yet on the replica) when it is killed.
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: 150 });
    const queued = accepted(await sendPhase(PER_PHASE));
    await waitFor(
      'some of them sent',
      () => h.sandbox.recorder.count({ outcome: 'accepted' }) >= before.length + 5,
    );
    const failover = sentinels.killMasterAndAwaitFailover();
    const waiting = await sql<{ n: string }>(
      h.db.url,
      `SELECT count(*) AS n FROM deliveries WHERE status = 'queued'`,
    );
    assert.ok(Number(waiting[0]!.n) > 0, 'some jobs were only in Redis when the master died');
    // Requests during the failover: accepted, or refused in the error shape, never hanging.
    const during = await sendPhase(2 * PER_PHASE);
    await failover;
    for (const a of during) {
      if (a.status === 202) continue;
      assert.equal(a.status, 503, `only 202 or 503, got ${a.status} ${JSON.stringify(a.body)}`);
      assert.equal(typeof a.body.error?.code, 'string');
    }
    assert.deepEqual(await sentinels.masterPorts(), [
      sentinels.replicaPort,
      sentinels.replicaPort,
      sentinels.replicaPort,
    ]);
    await waitFor('ready on the promoted replica', async () => (await ready()) === 200, {
      intervalMs: 200,
      timeoutMs: 60_000,
    });
    h.sandbox.behaviors.clear();

    const afterwards = accepted(await sendPhase(3 * PER_PHASE));
    const all = [
      ...before,
      ...queued,
      ...during.filter((a) => a.status === 202).map((a) => a.body.id!),
      ...afterwards,
    ];
    assert.equal(new Set(all).size, all.length);
    await allSent(all, 'every accepted notification sent after the failover');

    const receipts = receiptsById(h.sandbox);
    for (const id of all) {
      const got = [...receipts.values()].filter((r) => r.notificationId === id);
      assert.equal(got.length, 1, `notification ${id} has one delivery at the receiver`);
      assert.equal(got[0]!.accepted, 1, `notification ${id} received exactly once`);
    }
    const stuck = await sql<{ status: string; n: string }>(
      h.db.url,
      `SELECT status, count(*) AS n FROM deliveries WHERE status <> 'sent' GROUP BY status`,
    );
    assert.deepEqual(stuck, [], 'no delivery left in another state');
    t.diagnostic(
      `accepted ${before.length} before, ${queued.length} queued at the kill, ${all.length - before.length - queued.length - afterwards.length}/${during.length} during and ${afterwards.length} after the failover to port ${sentinels.replicaPort}`,
    );
  });

  test('after the failover, on the promoted master: a topic fans out to every subscriber once', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'sentinel-news' }, content: { webhook: { json: { topic: true } } } },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    await waitFor(
      'the topic sent to every subscriber',
      async () => {
        const v = await json<{ summary: Record<string, number> }>(await app.call(`/v1/notifications/${id}`));
        return v.summary.sent === USERS && Object.keys(v.summary).length === 1;
      },
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    const got = [...receiptsById(h.sandbox, { notificationId: id }).values()];
    assert.deepEqual(
      got.map((r) => r.to).sort(),
      Array.from({ length: USERS }, (_, i) => `s${i + 1}`),
    );
    assert.ok(got.every((r) => r.accepted === 1));
  });

  test('after the failover: per-user caps still counted atomically, 20 concurrent at a cap of 3 send 3', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        app.call('/v1/notifications', {
          body: { to: { userId: 's1' }, category: 'marketing', content: { webhook: { json: { cap: n } } } },
        }),
      ),
    );
    const ids: string[] = [];
    for (const a of answers) {
      assert.equal(a.status, 202);
      ids.push((await json<{ id: string }>(a)).id);
    }
    const views = await Promise.all(
      ids.map(async (id) =>
        json<{ deliveries: { status: string; reason: string | null }[] }>(
          await app.call(`/v1/notifications/${id}`),
        ),
      ),
    );
    const limited = views.filter((v) => v.deliveries[0]!.status === 'suppressed');
    assert.equal(limited.length, 17);
    assert.ok(limited.every((v) => v.deliveries[0]!.reason === 'rate_limited'));
    const passed = new Set(ids.filter((_, i) => views[i]!.deliveries[0]!.status !== 'suppressed'));
    await waitFor(
      'the 3 under the cap received',
      () =>
        [...receiptsById(h.sandbox).values()].filter((r) => passed.has(r.notificationId) && r.accepted === 1)
          .length === 3,
    );
  });
});
