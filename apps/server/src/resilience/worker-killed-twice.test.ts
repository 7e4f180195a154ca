import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const JOBS = 10;

const workerEnv = (extra: Record<string, string> = {}) => ({
  CLARION_JOB_LOCK_MS: '1500',
  CLARION_SWEEP_INTERVAL_MS: '500',
  CLARION_SWEEP_AFTER_MS: '1000',
  CLARION_WORKER_CONCURRENCY: String(JOBS),
  CLARION_MIGRATE_ON_START: 'false',
  CLARION_WEBHOOK_TIMEOUT_MS: '10000',
  ...extra,
});

interface View {
  summary: Record<string, number>;
  deliveries: { status: string; reason: string | null }[];
}

describe('the same jobs losing their worker twice (two SIGKILLs)', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    h = await startHarness({ role: 'api', label: 'killedtwice' });
    app = await h.createApp();
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  /** Sends JOBS notifications to `user`, kills `kills` workers in turn while all jobs are in flight, starts one more. */
  async function killWhileInFlight(
    user: string,
    kills: number,
    env: Record<string, string>,
  ): Promise<string[]> {
    await processes.killAll(); // workers of an earlier test (other settings) must not take these jobs
    assert.equal(
      (
        await app.call(`/v1/users/${user}`, {
          method: 'PUT',
          body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
        })
      ).status,
      201,
    );
    // Every send to this user hangs 4 s until each kill has landed with all jobs in flight.
    h.sandbox.behaviors.add({ provider: 'webhook', to: user, delayMs: 4000, times: kills * JOBS });
    const taken = () => kills * JOBS - (h.sandbox.behaviors.list().find((r) => r.to === user)?.times ?? 0);
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const res = await app.call('/v1/notifications', {
        body: { to: { userId: user }, content: { webhook: { json: { i } } } },
      });
      assert.equal(res.status, 202);
      ids.push((await json<{ id: string }>(res)).id);
    }
    for (let round = 1; round <= kills; round++) {
      const worker = await processes.startClarion(`${user}-worker-${round}`, 'worker', h.childEnv(env));
      await waitFor(
        `round ${round}: all jobs in flight`,
        () => h.sandbox.behaviors.list().every((r) => r.to !== user) || taken() >= round * JOBS,
      );
      worker.kill('SIGKILL');
      await worker.exited;
    }
    await processes.startClarion(`${user}-worker-${kills + 1}`, 'worker', h.childEnv(env));
    return ids;
  }

  const views = async (ids: string[]) =>
    Promise.all(ids.map(async (id) => json<View>(await app.call(`/v1/notifications/${id}`))));

  test('within CLARION_JOB_MAX_STALLS (default 3): every delivery is sent, exactly once', async () => {
    const ids = await killWhileInFlight('twice', 2, workerEnv());
    await waitFor('all sent', async () => (await views(ids)).every((v) => v.summary.sent === 1), {
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const receipts = () => [...receiptsById(h.sandbox).values()].filter((r) => r.to === 'twice');
    // The receiver notes a cut request when its 4 s delay ends, possibly after the third worker's send.
    await waitFor('both kills noted by the receiver', () => receipts().every((r) => r.aborted === 2));
    assert.equal(receipts().length, JOBS);
    assert.deepEqual(
      receipts().filter((r) => r.accepted !== 1),
      [],
      'each accepted exactly once',
    );
  });

  test('past CLARION_JOB_MAX_STALLS: recorded `failed` with reason `stalled`, never left `queued`', async () => {
    // With 0 stalls allowed, one kill is past the limit: BullMQ fails the jobs without running them again.
    const ids = await killWhileInFlight('poison', 1, workerEnv({ CLARION_JOB_MAX_STALLS: '0' }));
    const final = await waitFor(
      'all failed',
      async () => {
        const v = await views(ids);
        return v.every((n) => n.summary.failed === 1) ? v : undefined;
      },
      { intervalMs: 250 },
    ).catch(async (error: Error) => {
      const v = await views(ids);
      throw new Error(
        `${error.message}: ${JSON.stringify(v.map((n) => n.summary))}\n${processes
          .list()
          .map((p) =>
            p
              .output()
              .split('\n')
              .filter((l) => /stall|allowable|error/i.test(l))
              .slice(-5)
              .join('\n'),
          )
          .join('\n')}`,
      );
    });
    assert.deepEqual(
      final.map((n) => n.deliveries.map((d) => `${d.status}/${d.reason}`)),
      final.map(() => ['failed/stalled']),
    );
    assert.equal(
      h.sandbox.recorder.count({ to: 'poison', outcome: 'accepted' }),
      0,
      'BullMQ did not run them again',
    );
  });
});
