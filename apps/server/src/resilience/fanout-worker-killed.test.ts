import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { withAudience } from '../testing/audience';
import { sql } from '../testing/db';
import { type Harness, json, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const USERS = 3000;

/**
 * A worker killed (SIGKILL) in the middle of a fan-out, with two chunks in flight: one written and
 * enqueued maybe, its cursor saved maybe, the next being written. Another worker takes the fan-out
 * job over once its lock expires and goes on from the last cursor saved: every subscriber gets the
 * notification once, and is counted once.
 */
describe('a worker killed mid-fan-out', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    ({ h, app } = await withAudience({
      label: 'fanoutkill',
      role: 'api',
      env: { CLARION_SWEEP_INTERVAL_MS: '1000', CLARION_SWEEP_AFTER_MS: '2000' },
      users: USERS,
      prefix: 'k',
    }));
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  test('another worker goes on from the last cursor saved: each subscriber receives it once and is counted once', async (t) => {
    const workerEnv = h.childEnv({ CLARION_MIGRATE_ON_START: 'false' });
    const first = await processes.startClarion('worker-1', 'worker', workerEnv);
    // 20 KB a job: chunks of about 200 recipients, 15 of them.
    const body = { webhook: { json: { hello: '{{ user.id }}', offers: 'x'.repeat(20_000) } } };
    const res = await app.call('/v1/notifications', { body: { to: { topic: 'all' }, content: body } });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);

    const rows = async () =>
      (
        await sql<{ n: number }>(
          h.db.url,
          'SELECT count(*)::int AS n FROM deliveries WHERE notification_id = $1',
          [id],
        )
      )[0]!.n;
    await waitFor('the first chunk written', async () => (await rows()) > 0, { intervalMs: 10 });
    first.kill('SIGKILL');
    await first.exited;
    const [at] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM notifications WHERE id = $1', [
      id,
    ]);
    const written = await rows();
    assert.equal(at!.status, 'fanout', 'killed in the middle of the fan-out');
    assert.ok(written < USERS, `killed before the last chunk (${written} rows)`);
    t.diagnostic(`killed with ${written} of ${USERS} rows written`);

    await processes.startClarion('worker-2', 'worker', workerEnv);
    await waitFor(
      'every delivery sent',
      async () => {
        const n = await json<{ status: string; summary: Record<string, number> }>(
          await app.call(`/v1/notifications/${id}?limit=1`),
        );
        return n.status === 'accepted' && n.summary.sent === USERS;
      },
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const receipts = receiptsById(h.sandbox, { notificationId: id });
    assert.equal(new Set([...receipts.values()].map((r) => r.to)).size, USERS, 'each subscriber reached');
    assert.deepEqual(
      [...receipts.values()].filter((r) => r.accepted !== 1),
      [],
      'none received twice',
    );
    assert.equal(await rows(), USERS, 'one row per subscriber');
    const n = await json<{ recipients: number }>(await app.call(`/v1/notifications/${id}?limit=1`));
    assert.equal(n.recipients, USERS, 'each counted once');
  });
});
