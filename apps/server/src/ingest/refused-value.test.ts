import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from '../testing/db';
import { type Harness, startHarness, type TestApp } from '../testing/harness';

/**
 * Requests share one INSERT (group commit). A notification PostgreSQL refuses must fail alone:
 * before the batcher split such a batch, every request in it got a 500 and nothing was stored.
 */
describe('a notification PostgreSQL refuses fails alone, not the requests that shared its statement', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'refused' });
    app = await h.createApp();
    await app.call('/v1/users/shared', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/shared` },
    });
    // Stands in for any value the database refuses after validation (a user deleted meanwhile, a
    // value out of range): this category raises an integrity error inside the batch's statement.
    await sql(
      h.db.url,
      `CREATE FUNCTION refuse_category() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.category = 'refused-by-db' THEN
           RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$`,
    );
    await sql(
      h.db.url,
      `CREATE TRIGGER refuse_category BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_category()`,
    );
  });
  after(() => h.close());

  for (const withEventIds of [false, true]) {
    // Without eventIds a batch is one INSERT; with them, one transaction that also claims the ids.
    test(`40 requests in flight with 1 refused${withEventIds ? ', each with an eventId' : ''}: 40 × 202 and stored, 1 × 500 and nothing of it stored`, async () => {
      const run = withEventIds ? 'ev' : 'plain';
      const body = (i: number, category = `ok-${run}`) => ({
        to: { userId: 'shared' },
        category,
        ...(withEventIds ? { eventId: `${run}-${i}` } : {}),
        content: { webhook: { json: { i } } },
      });
      const sends = Array.from({ length: 41 }, (_, i) =>
        app.call('/v1/notifications', { body: i === 20 ? body(i, 'refused-by-db') : body(i) }),
      );
      // With eventIds, a repeat of the first in the same burst is answered as its duplicate.
      if (withEventIds) sends.push(app.call('/v1/notifications', { body: body(0) }));
      const statuses = (await Promise.all(sends)).map((r) => r.status);
      assert.equal(statuses[20], 500);
      // The repeat and its first may arrive in either order: one is created, the other is its duplicate.
      if (withEventIds) {
        const repeat = statuses.pop();
        assert.deepEqual([statuses[0], repeat].sort(), [200, 202]);
        statuses[0] = 202; // whichever of the two was created stands for request 0 below
      }
      assert.deepEqual(
        statuses.filter((_, i) => i !== 20),
        Array.from({ length: 40 }, () => 202),
      );
      const [stored] = await sql<{ ok: number; refused: number; deliveries: number }>(
        h.db.url,
        `SELECT count(*) FILTER (WHERE category = $1)::int AS ok,
                count(*) FILTER (WHERE category = 'refused-by-db')::int AS refused,
                (SELECT count(*)::int FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.category = $1) AS deliveries
           FROM notifications`,
        [`ok-${run}`],
      );
      assert.deepEqual(stored, { ok: 40, refused: 0, deliveries: 40 });
      await h.sandbox.recorder.waitFor(withEventIds ? 80 : 40, { to: 'shared', outcome: 'accepted' });
      if (withEventIds) {
        const [claims] = await sql<{ n: number }>(
          h.db.url,
          `SELECT count(*)::int AS n FROM event_ids WHERE event_id LIKE 'ev-%'`,
        );
        assert.equal(claims!.n, 40, 'the refused notification claimed no eventId');
      }
    });
  }
});
