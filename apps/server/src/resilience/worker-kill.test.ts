import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const NOTIFICATIONS = 300;
const FAST = 100;
const SLOW = 60;
const SLOW_DELAY_MS = 10_000;
const USERS = 10;

/** Worker settings that make recovery quick: a dead worker's jobs are taken back after 1.5 s. */
const WORKER_ENV = {
  CLARION_JOB_LOCK_MS: '1500',
  CLARION_SWEEP_INTERVAL_MS: '500',
  CLARION_SWEEP_AFTER_MS: '1000',
  CLARION_WORKER_CONCURRENCY: '40',
  CLARION_MIGRATE_ON_START: 'false',
  // Longer than the receiver's slow delay: the sends are cut by the kill, not by a timeout.
  CLARION_WEBHOOK_TIMEOUT_MS: '20000',
};

describe('a worker killed mid-run (SIGKILL)', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    h = await startHarness({ role: 'api', label: 'workerkill' });
    app = await h.createApp();
    for (let i = 1; i <= USERS; i++) {
      const put = await app.call(`/v1/users/k${i}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/k${i}` },
      });
      assert.equal(put.status, 201);
    }
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  const sentCount = async () =>
    Number(
      (await sql<{ n: string }>(h.db.url, `SELECT count(*) AS n FROM deliveries WHERE status = 'sent'`))[0]!
        .n,
    );

  test('loses nothing and sends nothing twice once the stalled jobs are recovered by a new worker', async (t) => {
    // The first 100 sends are quick; the next 60 hang at the receiver, so the kill lands while
    // 40 sends (the worker's concurrency) are in flight and none is between "receiver said 200"
    // and "worker recorded it" (that window is the SentLedger's, see NOTES-resilience.md).
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: 10, times: FAST });
    // 10 s: the kill must land while they hang, after the quick ones are recorded; on a loaded
    // machine recording those can take seconds, and a 4 s hang sometimes ended first.
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: SLOW_DELAY_MS, times: SLOW });
    const first = await processes.startClarion('worker-1', 'worker', h.childEnv(WORKER_ENV));

    const ids: string[] = [];
    for (let start = 0; start < NOTIFICATIONS; start += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, NOTIFICATIONS - start) }, (_, j) =>
          app.call('/v1/notifications', {
            body: {
              to: { userId: `k${((start + j) % USERS) + 1}` },
              content: { webhook: { json: { n: start + j } } },
            },
          }),
        ),
      );
      for (const res of batch) {
        assert.equal(res.status, 202);
        ids.push((await json<{ id: string }>(res)).id);
      }
    }

    const inFlight = () =>
      SLOW - (h.sandbox.behaviors.list().find((r) => r.delayMs === SLOW_DELAY_MS)?.times ?? 0);
    await waitFor(
      'the quick sends recorded and slow ones in flight',
      async () =>
        h.sandbox.recorder.count({ outcome: 'accepted' }) === FAST &&
        (await sentCount()) === FAST &&
        inFlight() > 0,
      { timeoutMs: 60_000 },
    );
    const killedWith = inFlight();
    first.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');

    await processes.startClarion('worker-2', 'worker', h.childEnv(WORKER_ENV));
    await waitFor('every delivery sent', async () => (await sentCount()) === NOTIFICATIONS, {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    // The receiver notes the killed worker's requests once their delay ends.
    await waitFor(
      'the cut requests noted by the receiver',
      () => h.sandbox.recorder.count({ outcome: 'aborted' }) >= killedWith,
    );

    for (const id of ids) {
      const view = await json<{ summary: Record<string, number> }>(await app.call(`/v1/notifications/${id}`));
      assert.deepEqual(view.summary, { sent: 1 }, `notification ${id}`);
    }
    const receipts = receiptsById(h.sandbox);
    assert.equal(receipts.size, NOTIFICATIONS, 'every delivery reached the receiver');
    assert.deepEqual(
      [...receipts.values()].filter((r) => r.accepted !== 1),
      [],
      'each delivery accepted exactly once',
    );
    const recovered = [...receipts.values()].filter((r) => r.aborted > 0);
    assert.ok(recovered.length >= killedWith, 'the sends cut by the kill were sent again, once');
    t.diagnostic(`killed with ${recovered.length} sends in flight; all ${NOTIFICATIONS} sent once`);
  });
});
