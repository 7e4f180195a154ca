import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { withAudience } from '../testing/audience';
import { type Harness, json, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';

const USERS = 10_000;

describe('topic fan-out to 10,000 users', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    ({ h, app } = await withAudience({
      label: 'fanout10k',
      env: { CLARION_SWEEP_INTERVAL_MS: '1000', CLARION_SWEEP_AFTER_MS: '2000' },
      users: USERS,
      prefix: 'u',
      topic: 'everyone',
    }));
    // One subscriber through the API too, so the public path and the bulk rows agree.
    assert.equal((await app.call('/v1/users/u1')).status, 200);
  });
  after(() => h.close());

  test('the request answers `fanout` at once; all 10,000 deliveries end `sent`, each received exactly once', async (t) => {
    const started = Date.now();
    const res = await app.call('/v1/notifications', {
      body: {
        to: { topic: 'everyone' },
        content: { webhook: { json: { text: 'hello {{ user.id }} #{{ user.n }}' } } },
      },
    });
    const answeredMs = Date.now() - started;
    assert.equal(res.status, 202);
    const { id, status } = await json<{ id: string; status: string }>(res);
    assert.equal(status, 'fanout', 'expanded by a queue job, not in the request');

    const view = await waitFor(
      'all deliveries sent',
      async () => {
        const n = await json<{ status: string; recipients: number; summary: Record<string, number> }>(
          await app.call(`/v1/notifications/${id}?limit=1`),
        );
        return n.summary.sent === USERS ? n : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 250 },
    );
    const totalMs = Date.now() - started;
    assert.deepEqual(view.summary, { sent: USERS });
    assert.equal(view.recipients, USERS);
    assert.equal(view.status, 'accepted', 'fan-out finished');

    const receipts = receiptsById(h.sandbox, { notificationId: id });
    assert.equal(receipts.size, USERS, 'every delivery reached the receiver');
    const twice = [...receipts.values()].filter((r) => r.accepted !== 1);
    assert.deepEqual(twice, [], 'no delivery received twice');
    const users = new Set([...receipts.values()].map((r) => r.to));
    assert.equal(users.size, USERS, 'one message per user');
    const sample = h.sandbox.recorder
      .list({ to: 'u42', outcome: 'accepted' })
      .find((r) => (r.payload as { notificationId: string }).notificationId === id);
    assert.ok(sample, 'u42 got the message');
    assert.deepEqual((sample.payload as { content: unknown }).content, { text: 'hello u42 #42' });
    t.diagnostic(`fan-out of ${USERS}: request answered in ${answeredMs} ms, all sent after ${totalMs} ms`);
  });
});
