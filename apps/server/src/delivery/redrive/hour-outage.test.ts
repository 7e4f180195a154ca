import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { countRows, sql } from '../../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../../testing/harness';

interface DeliveryView {
  id: string;
  userId: string;
  status: string;
  events: { status: string }[];
}
interface Dead {
  id: string;
  userId: string;
  status: string;
  plugin: string;
}
interface Redrive {
  dryRun: boolean;
  matched: number;
  redriven: number;
  suppressed: number;
  nextCursor: string | null;
}

const HOUR = 3_600_000;
/** Failed during the hour the receiver was down. */
const FAILED = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
/** Expired during that hour: its TTL ran out while the receiver was down. */
const EXPIRED = 'ttl0';
const IN_HOUR = [...FAILED, EXPIRED];
/** Failed hours earlier, for another reason the operator does not want to send again. */
const EARLIER = ['old0', 'old1'];

/**
 * A provider down for an hour, then back: the operator lists what failed in that hour and sends
 * exactly that again. The failures happen for real (the sandbox answers 503 until the retries are
 * used up, or the TTL runs out); the clock is moved by backdating when they ended, so the test
 * takes seconds, not an hour.
 */
describe('re-drive after an hour-long provider outage', () => {
  let h: Harness;
  let app: TestApp;
  const outageStart = new Date(Date.now() - 3 * HOUR);
  const outageEnd = new Date(outageStart.getTime() + HOUR);
  const hour = { from: outageStart.toISOString(), to: outageEnd.toISOString() };
  const window = `from=${encodeURIComponent(hour.from)}&to=${encodeURIComponent(hour.to)}`;
  const notificationOf = new Map<string, string>();

  const deliveryOf = async (user: string) =>
    (
      await json<{ deliveries: DeliveryView[] }>(
        await app.call(`/v1/notifications/${notificationOf.get(user)}`),
      )
    ).deliveries[0]!;
  const endedAt = (user: string, at: Date) =>
    sql(h.db.url, 'UPDATE deliveries SET updated_at = $2 WHERE notification_id = $1', [
      notificationOf.get(user),
      at,
    ]);

  before(async () => {
    h = await startHarness({
      label: 'redrivehour',
      // Short retries, so the outage exhausts them quickly; no circuit, which would hold the jobs instead.
      env: {
        CLARION_RETRY_BACKOFF_BASE_MS: '5',
        CLARION_RETRY_BACKOFF_MAX_MS: '20',
        CLARION_CIRCUIT_FAILURE_THRESHOLD: '0',
      },
    });
    app = await h.createApp();
    // Slow as well as down for this one, so its 1 s TTL runs out after the first attempt.
    h.sandbox.behaviors.add({ provider: 'webhook', to: EXPIRED, fail: '503', delayMs: 2_500 });
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', fail: '503' });
    for (const user of [...IN_HOUR, ...EARLIER]) {
      const put = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.ok(put.status < 300, await put.clone().text());
      const res = await app.call('/v1/notifications', {
        body: {
          to: { userId: user },
          content: { webhook: { json: { hello: user } } },
          ...(user === EXPIRED ? { ttl: 1 } : {}),
        },
      });
      assert.equal(res.status, 202, await res.clone().text());
      notificationOf.set(user, (await json<{ id: string }>(res)).id);
    }
    await waitFor(
      'every delivery to fail (one to expire)',
      async () => {
        const ended = await Promise.all(
          [...notificationOf.keys()].map(
            async (u) => (await deliveryOf(u)).status === (u === EXPIRED ? 'expired' : 'failed'),
          ),
        );
        return ended.every(Boolean);
      },
      { timeoutMs: 30_000 },
    );
    // When each one ended: spread over the outage hour, and the earlier ones two hours before it.
    for (const [i, user] of IN_HOUR.entries())
      await endedAt(user, new Date(outageStart.getTime() + i * 8 * 60_000 + 1_000));
    for (const user of EARLIER) await endedAt(user, new Date(outageStart.getTime() - 2 * HOUR));
    h.sandbox.behaviors.clear('webhook'); // the provider is back
  });
  after(() => h.close());

  test('the outage hour lists exactly the deliveries that failed or expired in it, paged', async () => {
    const page1 = await json<{ deliveries: Dead[]; nextCursor: string | null }>(
      await app.call(`/v1/deliveries?status=failed&plugin=webhook&${window}&limit=4`),
    );
    assert.equal(page1.deliveries.length, 4);
    assert.ok(page1.nextCursor);
    const page2 = await json<{ deliveries: Dead[]; nextCursor: string | null }>(
      await app.call(
        `/v1/deliveries?status=failed&plugin=webhook&${window}&limit=4&cursor=${page1.nextCursor}`,
      ),
    );
    assert.equal(page2.nextCursor, null);
    const failed = [...page1.deliveries, ...page2.deliveries];
    assert.deepEqual(failed.map((d) => d.userId).sort(), FAILED);
    assert.ok(failed.every((d) => d.status === 'failed' && d.plugin === 'webhook'));
    const expired = await json<{ deliveries: Dead[] }>(
      await app.call(`/v1/deliveries?status=expired&${window}`),
    );
    assert.deepEqual(
      expired.deliveries.map((d) => [d.userId, d.status]),
      [[EXPIRED, 'expired']],
    );
    const all = await json<{ deliveries: Dead[] }>(await app.call('/v1/deliveries?status=failed'));
    assert.equal(all.deliveries.length, FAILED.length + EARLIER.length, 'without a window: every failure');
  });

  test('a dry run of the hour counts them and sends nothing', async () => {
    const before = await countRows(h.db.url, ['delivery_events']);
    const dry = await json<Redrive>(
      await app.call('/v1/deliveries/redrive', { body: { plugin: 'webhook', ...hour, dryRun: true } }),
    );
    assert.deepEqual(
      [dry.dryRun, dry.matched, dry.redriven],
      [true, IN_HOUR.length, 0],
      'failed and expired',
    );
    assert.deepEqual(await countRows(h.db.url, ['delivery_events']), before);
    assert.equal(h.sandbox.recorder.count({ outcome: 'accepted' }), 0);
  });

  test('re-driving the hour sends each of its deliveries once, the expired one too; the earlier failures stay failed', async () => {
    const res = await app.call('/v1/deliveries/redrive', { body: { plugin: 'webhook', ...hour } });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await json<Redrive>(res);
    assert.deepEqual(
      [body.matched, body.redriven, body.suppressed, body.nextCursor],
      [IN_HOUR.length, IN_HOUR.length, 0, null],
    );
    for (const user of IN_HOUR) {
      await h.sandbox.recorder.waitFor(1, { to: user, outcome: 'accepted' });
      const d = await waitFor(`${user} sent`, async () => {
        const view = await deliveryOf(user);
        return view.status === 'sent' ? view : undefined;
      });
      // The history keeps the attempt that ended before the new one.
      const steps = d.events.map((e) => e.status).filter((s) => s !== 'queued' && s !== 'retrying');
      assert.deepEqual(steps, ['pending', user === EXPIRED ? 'expired' : 'failed', 'redriven', 'sent'], user);
    }
    // Give a stray second copy time to show up before counting.
    await new Promise((r) => setTimeout(r, 300));
    for (const user of IN_HOUR)
      assert.equal(h.sandbox.recorder.count({ to: user, outcome: 'accepted' }), 1, user);
    for (const user of EARLIER) {
      assert.equal((await deliveryOf(user)).status, 'failed', user);
      assert.equal(h.sandbox.recorder.count({ to: user, outcome: 'accepted' }), 0, user);
    }
    const left = await json<{ deliveries: Dead[] }>(await app.call(`/v1/deliveries?${window}`));
    assert.equal(left.deliveries.length, 0, 'nothing failed or expired is left in the hour');
  });
});
