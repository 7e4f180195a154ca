import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { OwnSentinels, SENTINEL_MASTER } from '../testing/own-sentinels';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const USERS = 4;
const PER_PHASE = 20;

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
      },
    });
    app = await h.createApp();
    for (let i = 1; i <= USERS; i++) {
      const res = await app.call(`/v1/users/s${i}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/s${i}` },
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await h?.close();
    await processes.killAll();
  });

  const sendPhase = async (from: number): Promise<string[]> =>
    Promise.all(
      Array.from({ length: PER_PHASE }, async (_, j) => {
        const n = from + j;
        const res = await app.call('/v1/notifications', {
          body: { to: { userId: `s${(n % USERS) + 1}` }, content: { webhook: { json: { n } } } },
          signal: AbortSignal.timeout(10_000),
        });
        const body = await json<{ id?: string }>(res);
        assert.equal(res.status, 202, `send ${n}: ${res.status} ${JSON.stringify(body)}`);
        return body.id!;
      }),
    );
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

  test('notifications are sent through the master the Sentinels name, before and after a failover, each exactly once', async (t) => {
    assert.equal(await ready(), 200);
    const before = await sendPhase(0);
    await allSent(before, 'sent through the first master');

    // What the first master acknowledged is on the replica, so the failover itself loses nothing.
    await sentinels.replicated();
    await sentinels.killMasterAndAwaitFailover();
    assert.deepEqual(await sentinels.masterPorts(), [
      sentinels.replicaPort,
      sentinels.replicaPort,
      sentinels.replicaPort,
    ]);
    await waitFor('ready on the promoted replica', async () => (await ready()) === 200, {
      intervalMs: 200,
      timeoutMs: 60_000,
    });

    const afterwards = await sendPhase(PER_PHASE);
    const all = [...before, ...afterwards];
    assert.equal(new Set(all).size, all.length);
    await allSent(all, 'every notification sent after the failover');

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
      `sent ${before.length} before and ${afterwards.length} after the failover to port ${sentinels.replicaPort}`,
    );
  });
});
