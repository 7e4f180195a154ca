import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeliveryQueries } from '../deliveries/delivery-queries';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface View {
  summary: Record<string, number>;
  deliveries: { status: string }[];
}

describe('GET /v1/notifications/:id reads one snapshot', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    // No worker: the delivery stays queued until the test changes it.
    h = await startHarness({ role: 'api', label: 'readsnapshot' });
    app = await h.createApp();
  });
  after(() => h.close());

  test('a status written between its reads shows in neither the rows nor the summary of that answer', async () => {
    assert.equal(
      (
        await app.call('/v1/users/snap', {
          method: 'PUT',
          body: { webhookUrl: `${h.sandbox.url}/webhook/snap` },
        })
      ).status,
      201,
    );
    const sent = await app.call('/v1/notifications', {
      body: { to: { userId: 'snap' }, content: { webhook: { json: { n: 1 } } } },
    });
    assert.equal(sent.status, 202);
    const { id } = await json<{ id: string }>(sent);

    // Right after the rows are read, another connection settles the delivery (a worker would).
    const queries = h.app!.get(DeliveryQueries);
    const real = queries.ofNotification;
    queries.ofNotification = async (...args) => {
      const page = await real.apply(queries, args);
      await sql(
        h.db.url,
        `UPDATE deliveries SET status = 'failed', reason = 'stalled' WHERE notification_id = $1`,
        [id],
      );
      return page;
    };
    let during: View;
    try {
      during = await json<View>(await app.call(`/v1/notifications/${id}`));
    } finally {
      queries.ofNotification = real;
    }
    assert.deepEqual(
      during.deliveries.map((d) => d.status),
      ['queued'],
    );
    assert.deepEqual(during.summary, { queued: 1 }, 'the summary counts what the rows show');
    const later = await json<View>(await app.call(`/v1/notifications/${id}`));
    assert.deepEqual(
      later.deliveries.map((d) => d.status),
      ['failed'],
    );
    assert.deepEqual(later.summary, { failed: 1 });
  });
});
