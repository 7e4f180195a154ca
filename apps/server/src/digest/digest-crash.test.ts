import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { runMigrations } from '../database/data-source';
import { sql } from '../testing/db';
import { closeNow, DIGEST_WEBHOOK_CONTENT, digestMessagesTo } from '../testing/digests';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const CHILD_ENV = {
  CLARION_MIGRATE_ON_START: 'false',
  CLARION_SCHEDULE_CHECK_INTERVAL_MS: '100',
  CLARION_SWEEP_INTERVAL_MS: '500',
  // The claim of a killed worker is taken over after this.
  CLARION_SWEEP_AFTER_MS: '1500',
  CLARION_JOB_LOCK_MS: '2000',
};

/**
 * A worker SIGKILLed while closing a digest: right after its claim (nothing sent yet), or right
 * after its message was accepted (the message exists, the digest is not marked sent). Another
 * worker finishes it: exactly one message either way. The kill point is made deterministic by the
 * test-only CLARION_TEST_DIGEST_STALL: the worker stops there and the test kills it.
 */
describe('a worker killed at the close of a digest', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    h = await startHarness({ role: 'none', label: 'digest-crash' });
    await runMigrations(h.db.url);
    const api = await processes.startClarion('api', 'api', h.childEnv(CHILD_ENV), { timeoutMs: 60_000 });
    h.useApi(api.url);
    app = await h.createApp();
  });
  after(async () => {
    await processes.killAll();
    await h?.close();
  });

  for (const stall of ['after-claim', 'after-accept'] as const) {
    test(`killed ${stall.replace('-', ' ')}: another worker finishes it, one message`, async () => {
      const user = `crash-${stall}`;
      const put = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(put.status, 201);
      const doomed = await processes.startClarion(
        `worker-${stall}`,
        'worker',
        h.childEnv({ ...CHILD_ENV, CLARION_TEST_DIGEST_STALL: stall }),
        { timeoutMs: 60_000 },
      );
      let digestId = '';
      for (const n of [1, 2, 3]) {
        const res = await app.call('/v1/notifications', {
          body: {
            to: { userId: user },
            content: DIGEST_WEBHOOK_CONTENT,
            data: { n: String(n) },
            digest: { key: 'comments', window: '1h' },
          },
        });
        assert.equal(res.status, 202);
        digestId = (await json<{ digest: { id: string } }>(res)).digest.id;
      }
      await closeNow(h.db.url, digestId);
      let acceptedBeforeKill: string | undefined;

      if (stall === 'after-claim')
        await waitFor('claimed by the doomed worker', async () => {
          const [d] = await sql<{ status: string; claimed_at: Date | null }>(
            h.db.url,
            'SELECT status, claimed_at FROM digests WHERE id = $1',
            [digestId],
          );
          return d?.status === 'closing' && d.claimed_at !== null;
        });
      else
        acceptedBeforeKill = (
          await waitFor('its message accepted by the doomed worker', async () => {
            const rows = await sql<{ id: string }>(
              h.db.url,
              'SELECT id FROM notifications WHERE event_id = $1',
              [`digest:${digestId}`],
            );
            return rows.length === 1 ? rows : undefined;
          })
        )[0]!.id;
      doomed.kill('SIGKILL');
      await doomed.exited;
      const [left] = await sql<{ status: string }>(h.db.url, 'SELECT status FROM digests WHERE id = $1', [
        digestId,
      ]);
      assert.equal(left!.status, 'closing', 'the killed worker left it closing');

      const rescuer = await processes.startClarion(`rescuer-${stall}`, 'worker', h.childEnv(CHILD_ENV), {
        timeoutMs: 60_000,
      });
      const [done] = await waitFor(
        'sent by the other worker',
        async () => {
          const rows = await sql<{ status: string; notification_id: string }>(
            h.db.url,
            'SELECT status, notification_id FROM digests WHERE id = $1',
            [digestId],
          );
          return rows[0]?.status === 'sent' ? rows : undefined;
        },
        { timeoutMs: 60_000 },
      );
      await waitFor('the message received', () => digestMessagesTo(h.sandbox, user).length >= 1, {
        timeoutMs: 60_000,
      });
      const messages = await sql<{ id: string }>(
        h.db.url,
        'SELECT id FROM notifications WHERE event_id = $1',
        [`digest:${digestId}`],
      );
      assert.deepEqual(
        messages.map((m) => m.id),
        [done!.notification_id],
        'one message notification, the one the digest names',
      );
      // Killed after the accept: the rescuer's accept was a repeat, answered with the first message's id.
      if (acceptedBeforeKill !== undefined) assert.equal(done!.notification_id, acceptedBeforeKill);
      const receipts = [...receiptsById(h.sandbox, { notificationId: done!.notification_id }).values()];
      assert.equal(receipts.length, 1);
      assert.equal(receipts[0]!.accepted, 1, 'received exactly once');
      assert.deepEqual(digestMessagesTo(h.sandbox, user)[0]!.content, {
        count: '3',
        first: '1',
        last: '3',
        items: '1,2,3,',
      });
      rescuer.kill('SIGTERM');
      await rescuer.exited;
    });
  }
});
