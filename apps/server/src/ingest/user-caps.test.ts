import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { loadEnv } from '../config/env';
import { startServer } from '../server';
import { checkAnswersFrom } from '../testing/checked-fetch';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  id: string;
  userId: string;
  status: string;
  reason: string | null;
  heldUntil: string | null;
  createdAt: string;
  events: { status: string; detail: Record<string, unknown> | null }[];
}
interface View {
  id: string;
  deliveries: Delivery[];
}

const DAY = 86_400;

describe('per-user frequency caps (app settings), counted atomically in Redis', () => {
  let h: Harness;
  let app: TestApp;

  before(async () => {
    // Two later windows for `defer` caps; lists of more than 2 users fan out in a queue job.
    h = await startHarness({
      label: 'caps',
      env: { CLARION_CAP_DEFER_MAX_WINDOWS: '2', CLARION_FANOUT_THRESHOLD: '2' },
    });
    app = await h.createApp({
      criticalCategories: ['security'],
      rateLimits: [
        { channel: 'webhook', category: 'marketing', max: 3, perSeconds: DAY },
        { channel: '*', max: 20, perSeconds: DAY },
        { channel: 'webhook', category: 'dup', max: 2, perSeconds: DAY },
        { channel: 'webhook', category: 'digest', max: 1, perSeconds: 2, overflow: 'defer' },
        { channel: 'webhook', category: 'weekly', max: 1, perSeconds: DAY, overflow: 'defer' },
      ],
    });
    for (const u of ['ann', 'bob', 'cat', 'dee', 'eli', 'fox', 'gus']) {
      assert.equal(
        (
          await app.call(`/v1/users/${u}`, {
            method: 'PUT',
            body: { webhookUrl: `${h.sandbox.url}/webhook/${u}` },
          })
        ).status,
        201,
      );
    }
  });
  after(() => h.close());

  const post = (body: Record<string, unknown>) =>
    app.call('/v1/notifications', {
      body: { content: { webhook: { json: { r: Math.random() } } }, ...body },
    });
  const view = async (id: string) => json<View>(await app.call(`/v1/notifications/${id}`));
  const idOf = async (res: Response) => {
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };

  test('50 concurrent notifications at one user with a cap of 3: exactly 3 go out, 47 are `rate_limited`', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post({ to: { userId: 'ann' }, category: 'marketing' })),
    );
    const ids = await Promise.all(answers.map(idOf));
    const deliveries = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
    const passed = deliveries.filter((d) => d.status !== 'suppressed');
    const limited = deliveries.filter((d) => d.status === 'suppressed');
    assert.equal(passed.length, 3);
    assert.equal(limited.length, 47);
    assert.ok(limited.every((d) => d.reason === 'rate_limited'));
    assert.deepEqual(
      limited[0]!.events.map((e) => [e.status, e.detail?.reason]),
      [['suppressed', 'rate_limited']],
    );
    await waitFor(
      'the 3 sends',
      () => h.sandbox.recorder.list({ to: 'ann', outcome: 'accepted' }).length === 3,
    );
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(
      metrics,
      /clarion_deliveries_total\{[^}]*status="suppressed",reason="rate_limited"[^}]*\} 47/,
    );
    assert.match(metrics, /clarion_rate_limit_hits_total\{[^}]*scope="user_cap"[^}]*\} 47/);
    // The answer counts them too.
    const more = await json<{ deliveries: number; suppressed: number }>(
      await post({ to: { userId: 'ann' }, category: 'marketing' }),
    );
    assert.deepEqual([more.deliveries, more.suppressed], [0, 1]);
  });

  test('a cap for one category leaves other categories alone; the channel-wide cap counts them', async () => {
    const orders = await view(await idOf(await post({ to: { userId: 'ann' }, category: 'orders' })));
    assert.equal(orders.deliveries[0]!.reason, null);
  });

  test('critical categories bypass caps', async () => {
    const ids = await Promise.all(
      Array.from({ length: 25 }, () => post({ to: { userId: 'bob' }, category: 'security' }).then(idOf)),
    );
    const deliveries = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
    assert.equal(
      deliveries.filter((d) => d.status === 'suppressed').length,
      0,
      'over the channel-wide 20, still sent',
    );
  });

  test('the channel-wide cap (channel *) applies to notifications without a category', async () => {
    const ids = await Promise.all(
      Array.from({ length: 22 }, () => post({ to: { userId: 'cat' } }).then(idOf)),
    );
    const deliveries = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
    assert.equal(deliveries.filter((d) => d.reason === 'rate_limited').length, 2);
  });

  test('a repeated eventId sends nothing and uses none of the cap', async () => {
    const body = {
      to: { userId: 'dee' },
      category: 'dup',
      eventId: 'dup-1',
      content: { webhook: { json: { same: true } } },
    };
    const first = await post(body);
    assert.equal(first.status, 202);
    const repeats = await Promise.all(Array.from({ length: 5 }, () => post(body)));
    assert.deepEqual(
      repeats.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    const conflict = await post({ ...body, content: { webhook: { json: { same: false } } } });
    assert.equal(
      conflict.status,
      409,
      'a different body under the same eventId is refused, and uses no cap either',
    );
    const second = await view(
      await idOf(await post({ to: { userId: 'dee' }, category: 'dup', eventId: 'dup-2' })),
    );
    assert.equal(second.deliveries[0]!.reason, null, 'the second of 2 allowed');
    const third = await view(
      await idOf(await post({ to: { userId: 'dee' }, category: 'dup', eventId: 'dup-3' })),
    );
    assert.equal(third.deliveries[0]!.reason, 'rate_limited');
  });

  test('a `defer` cap holds the overflow for the next window with room, one per window, and sends it then', async () => {
    const ids = await Promise.all(
      Array.from({ length: 3 }, () => post({ to: { userId: 'eli' }, category: 'digest' }).then(idOf)),
    );
    const deliveries = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
    assert.equal(deliveries.filter((d) => d.status === 'suppressed').length, 0, 'deferred, not dropped');
    const held = deliveries.filter((d) => d.heldUntil !== null);
    assert.ok(held.length >= 1, 'at least one waits for a later window');
    for (const d of held) {
      assert.equal(d.reason, 'rate_limit_deferred');
      assert.equal(Date.parse(d.heldUntil!) % 2000, 0, 'held until a window opens');
      assert.equal(
        d.events.find((e) => e.status !== 'pending')?.status,
        'held',
        'held before anything else happens',
      );
    }
    assert.equal(
      new Set(held.map((d) => d.heldUntil)).size,
      held.length,
      'each held delivery has a window of its own',
    );
    const sent = await waitFor('all three sent', async () => {
      const all = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
      return all.every((d) => d.status === 'sent') ? all : undefined;
    });
    const received = h.sandbox.recorder.list({ to: 'eli', outcome: 'accepted' });
    assert.equal(received.length, 3);
    for (const d of sent.filter((x) => x.heldUntil)) {
      const rec = received.find((r) => (r.payload as { id?: string }).id === d.id);
      assert.ok(rec, `received ${d.id}`);
      assert.ok(Date.parse(rec.receivedAt) >= Date.parse(d.heldUntil!), 'not sent before its window');
    }
  });

  test('a `defer` cap with no room in the next windows suppresses as `rate_limited`', async () => {
    const ids = await Promise.all(
      Array.from({ length: 5 }, () => post({ to: { userId: 'fox' }, category: 'weekly' }).then(idOf)),
    );
    const deliveries = (await Promise.all(ids.map(view))).map((v) => v.deliveries[0]!);
    assert.equal(deliveries.filter((d) => d.status !== 'suppressed').length, 3, 'this window and the 2 next');
    assert.equal(deliveries.filter((d) => d.reason === 'rate_limit_deferred').length, 2);
    assert.equal(deliveries.filter((d) => d.reason === 'rate_limited').length, 2);
  });

  test('two API processes share the counters: 2 × 20 concurrent requests at one user with a cap of 3 → exactly 3', async () => {
    // A second, independent API server (own Nest app, own Redis connections, own limiter objects) on the same Redis.
    const second = await startServer({
      env: loadEnv({ ...h.childEnv(), CLARION_ROLE: 'api', PORT: '0', CLARION_MIGRATE_ON_START: 'false' }),
      processEnv: h.childEnv(),
    });
    try {
      const url2 = `http://127.0.0.1:${(second.getHttpServer().address() as AddressInfo).port}`;
      checkAnswersFrom(url2);
      const body = JSON.stringify({
        to: { userId: 'hal' },
        category: 'marketing',
        content: { webhook: { json: {} } },
      });
      const viaSecond = () =>
        fetch(`${url2}/v1/notifications`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${app.appKey}:${app.appSecret}`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body,
        });
      await app.call('/v1/users/hal', {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/hal` },
      });
      const answers = await Promise.all([
        ...Array.from({ length: 20 }, () => app.call('/v1/notifications', { body })),
        ...Array.from({ length: 20 }, viaSecond),
      ]);
      const bodies = await Promise.all(
        answers.map((a) => json<{ deliveries: number; suppressed: number }>(a)),
      );
      assert.ok(answers.every((a) => a.status === 202));
      assert.equal(
        bodies.reduce((n, b) => n + b.deliveries, 0),
        3,
      );
      assert.equal(
        bodies.reduce((n, b) => n + b.suppressed, 0),
        37,
      );
    } finally {
      await second.close();
    }
  });

  test('fan-out applies the caps too', async () => {
    await idOf(await post({ to: { userId: 'gus' }, category: 'dup' }));
    await idOf(await post({ to: { userId: 'gus' }, category: 'dup' }));
    const id = await idOf(await post({ to: { userIds: ['gus', 'bob', 'cat'] }, category: 'dup' }));
    const done = await waitFor('fan-out done', async () => {
      const v = await view(id);
      return v.deliveries.length === 3 ? v : undefined;
    });
    const byUser = Object.fromEntries(done.deliveries.map((d) => [d.userId, d.reason]));
    assert.deepEqual(
      byUser,
      { gus: 'rate_limited', bob: null, cat: 'rate_limited' },
      'cat is over the channel-wide cap already',
    );
  });

  test('bad cap settings are refused by the admin API and change nothing', async () => {
    for (const rateLimits of [
      [{ channel: 'webhook', max: 1 }],
      [{ channel: 'webhook', max: 1, perSeconds: 0 }],
      [{ channel: 'Web Hook', max: 1, perSeconds: 60 }],
      [{ channel: 'webhook', max: 1, perSeconds: 60, category: 'a b' }],
      'many',
    ]) {
      const res = await h.admin(`/admin/apps/${app.id}/settings`, {
        method: 'PUT',
        body: JSON.stringify({ rateLimits }),
      });
      assert.equal(res.status, 400, JSON.stringify(rateLimits));
    }
    const third = await view(await idOf(await post({ to: { userId: 'dee' }, category: 'dup' })));
    assert.equal(third.deliveries[0]!.reason, 'rate_limited', 'the caps in force are unchanged');
  });
});
