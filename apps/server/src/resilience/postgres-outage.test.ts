import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { receiptsById } from '../testing/receipts';
import { type TcpProxy, tcpProxy } from '../testing/tcp-proxy';

interface View {
  summary: Record<string, number>;
  deliveries: { id: string; status: string }[];
}

/**
 * PostgreSQL unreachable for a while (a restart, a failover), for this server only: it reaches its
 * database through a proxy the test cuts. Nothing may be accepted that is not stored, and a send
 * that was on its way when the database went is recorded once it is back, never sent twice.
 */
describe('PostgreSQL unreachable for a while', () => {
  let h: Harness;
  let app: TestApp;
  let proxy: TcpProxy;
  before(async () => {
    proxy = await tcpProxy('postgres://127.0.0.1:5432');
    h = await startHarness({ label: 'pgoutage', databaseVia: (url) => proxy.via(url) });
    app = await h.createApp();
    for (const user of ['steady', 'slow']) {
      const res = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    proxy.restore();
    await h.close();
    await proxy.close();
  });

  const send = (user: string, n: number) =>
    app.call('/v1/notifications', {
      body: { to: { userId: user }, content: { webhook: { json: { n } } } },
      signal: AbortSignal.timeout(20_000),
    });
  const view = async (id: string) => json<View>(await app.call(`/v1/notifications/${id}`));

  test('requests get 503 `unavailable` (never a 202), /readyz says so; a send in flight is recorded once it is back, received once', async () => {
    // Holds the receiver's answer, so the send is in flight when the database goes.
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'slow', delayMs: 2500, times: 1 });
    const inFlight = await json<{ id: string }>(await send('slow', 1));
    await waitFor('the send reached the receiver', () =>
      h.sandbox.behaviors.list().every((r) => r.to !== 'slow'),
    );

    proxy.cut();
    const refused = await send('steady', 2);
    assert.equal(refused.status, 503, await refused.clone().text());
    const body = await json<{ error: { code: string; message: string } }>(refused);
    assert.equal(body.error.code, 'unavailable');
    assert.match(body.error.message, /database/i);
    assert.ok(refused.headers.get('retry-after'), 'a Retry-After tells the caller when to try again');
    const readyz = await fetch(`${h.url}/readyz`, { signal: AbortSignal.timeout(20_000) });
    assert.equal(readyz.status, 503);
    // The receiver answers while the database is away: the worker cannot record the send yet.
    await waitFor('the receiver answered', () => receiptsById(h.sandbox).size === 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    proxy.restore();
    const accepted = await send('steady', 3);
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const { id } = await json<{ id: string }>(accepted);
    await waitFor(
      'both recorded sent',
      async () => {
        const [a, b] = await Promise.all([view(inFlight.id), view(id)]);
        return a.summary.sent === 1 && b.summary.sent === 1;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    const receipts = [...receiptsById(h.sandbox).values()];
    assert.deepEqual(
      receipts.map((r) => [r.to, r.accepted]).sort(),
      [
        ['slow', 1],
        ['steady', 1],
      ],
      'each received exactly once; the refused request sent nothing',
    );
  });
});
