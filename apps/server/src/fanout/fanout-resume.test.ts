import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import type { Job } from 'bullmq';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { FanoutProcessor } from './fanout.processor';
import { FanoutWorker } from './fanout-worker';

const HOUR = 3600;

interface View {
  status: string;
  recipients: number;
  deliveries: { userId: string; status: string; reason: string | null }[];
}

/**
 * A fan-out resumes from its saved cursor after its worker died; the chunk it was writing may be
 * written already. Its users must not be planned twice: not a second cap slot each, not a second
 * suppressed row for a user without a contact.
 */
describe('fan-out resumed over a chunk it had written', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'fanoutresume' });
    app = await h.createApp({
      rateLimits: [{ channel: 'webhook', category: 'promo', max: 2, perSeconds: HOUR }],
    });
    for (const [user, body] of [
      ['r1', { webhookUrl: `${h.sandbox.url}/webhook/r1` }],
      ['r2', { webhookUrl: `${h.sandbox.url}/webhook/r2` }],
      ['r3', {}], // no contact: suppressed, a row without a contact id
    ] as const) {
      assert.equal((await app.call(`/v1/users/${user}`, { method: 'PUT', body })).status, 201);
      assert.ok((await app.call(`/v1/users/${user}/topics/resume`, { method: 'PUT' })).ok);
    }
  });
  after(() => h.close());

  const view = async (id: string) => json<View>(await app.call(`/v1/notifications/${id}`));
  const send = async (to: Record<string, unknown>) => {
    const res = await app.call('/v1/notifications', {
      body: { to, category: 'promo', content: { webhook: { json: { promo: true } } } },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };

  test("a killed worker's fan-out is recovered on the delivery jobs' lock (CLARION_JOB_LOCK_MS), not BullMQ's 30 s", () => {
    const { opts } = h.app!.get(FanoutWorker).worker!;
    assert.equal(opts.lockDuration, h.env.CLARION_JOB_LOCK_MS);
    assert.equal(opts.lockDuration, 10_000);
    assert.equal(opts.stalledInterval, 2500);
    assert.equal(opts.maxStalledCount, h.env.CLARION_JOB_MAX_STALLS);
    assert.equal(opts.concurrency, 2);
  });

  test('the repeated chunk writes no second row, counts no user twice and takes no second cap slot', async () => {
    const id = await send({ topic: 'resume' });
    await waitFor('expanded and sent', async () => {
      const v = await view(id);
      return v.status === 'accepted' && v.deliveries.filter((d) => d.status === 'sent').length === 2;
    });

    // The crash: the chunk is written, the job runs again from before it.
    await sql(h.db.url, `UPDATE notifications SET status = 'fanout' WHERE id = $1`, [id]);
    const job = {
      data: { notificationId: id, appId: app.id },
      updateData: async () => undefined,
      moveToDelayed: async () => undefined,
    } as unknown as Job<{ notificationId: string; appId: string }>;
    await h.app!.get(FanoutProcessor).process(job);

    const v = await view(id);
    assert.equal(v.status, 'accepted');
    assert.equal(v.recipients, 3, 'each user counted once');
    assert.deepEqual(
      v.deliveries.map((d) => `${d.userId}:${d.status}:${d.reason ?? ''}`).sort(),
      ['r1:sent:', 'r2:sent:', 'r3:suppressed:no_contact'],
      'one row per user, as before the resume',
    );
    // The cap is 2 an hour: the campaign took one slot each, so one more is allowed, not refused.
    const next = await view(await send({ userId: 'r1' }));
    assert.equal(next.deliveries[0]!.reason, null, 'the second slot is still free');
    const third = await view(await send({ userId: 'r1' }));
    assert.equal(third.deliveries[0]!.reason, 'rate_limited', 'the cap still holds');
  });
});
