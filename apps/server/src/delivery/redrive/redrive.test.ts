import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { signUserToken } from '../../auth/user-token';
import { countRows } from '../../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../../testing/harness';

interface DeliveryView {
  id: string;
  userId: string;
  status: string;
  reason: string | null;
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
  skipped: number;
  nextCursor: string | null;
}

const USERS = ['ana', 'ben', 'cai', 'dee'];

describe('re-drive: failed deliveries go out again after a provider outage', () => {
  let h: Harness;
  let app: TestApp;
  let other: TestApp;
  const notifications: string[] = [];

  const deliveriesOf = async (a: TestApp, id: string) =>
    (await json<{ deliveries: DeliveryView[] }>(await a.call(`/v1/notifications/${id}`))).deliveries;
  const allEnded = async (a: TestApp, ids: string[], statuses: string[]) =>
    waitFor(
      `deliveries of ${ids.length} notifications to end`,
      async () => {
        const all = (await Promise.all(ids.map((id) => deliveriesOf(a, id)))).flat();
        return all.every((d) => statuses.includes(d.status)) ? all : undefined;
      },
      { timeoutMs: 30_000 },
    );

  before(async () => {
    h = await startHarness({
      label: 'redrive',
      // Short retries, so the outage exhausts them in well under a second; no circuit, which would hold the jobs instead.
      env: {
        CLARION_RETRY_BACKOFF_BASE_MS: '5',
        CLARION_RETRY_BACKOFF_MAX_MS: '20',
        CLARION_CIRCUIT_FAILURE_THRESHOLD: '0',
      },
    });
    app = await h.createApp();
    other = await h.createApp();
    for (const user of USERS) {
      const put = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.ok(put.status < 300, await put.clone().text());
    }
    assert.ok(
      (
        await other.call('/v1/users/zed', {
          method: 'PUT',
          body: { webhookUrl: `${h.sandbox.url}/webhook/zed` },
        })
      ).status < 300,
    );
    // The receiver is down: every request answers 503 until the deliveries have used up their attempts.
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', fail: '503' });
    for (const user of USERS) {
      const res = await app.call('/v1/notifications', {
        body: { to: { userId: user }, content: { webhook: { json: { hello: user } } } },
      });
      assert.equal(res.status, 202, await res.clone().text());
      notifications.push((await json<{ id: string }>(res)).id);
    }
    const res = await other.call('/v1/notifications', {
      body: { to: { userId: 'zed' }, content: { webhook: { json: { hello: 'zed' } } } },
    });
    notifications.push((await json<{ id: string }>(res)).id);
    await allEnded(app, notifications.slice(0, USERS.length), ['failed']);
    await allEnded(other, notifications.slice(USERS.length), ['failed']);
    h.sandbox.behaviors.clear('webhook'); // the outage is over
  });
  after(() => h.close());

  test('GET /v1/deliveries lists the failed ones, own app only, keyset-paged', async () => {
    const page1 = await json<{ deliveries: Dead[]; nextCursor: string | null }>(
      await app.call('/v1/deliveries?status=failed&plugin=webhook&limit=3'),
    );
    assert.equal(page1.deliveries.length, 3);
    assert.ok(page1.deliveries.every((d) => d.status === 'failed' && d.plugin === 'webhook'));
    assert.ok(
      page1.deliveries.every((d) => USERS.includes(d.userId)),
      'users by the app’s own ids',
    );
    assert.ok(page1.nextCursor);
    const page2 = await json<{ deliveries: Dead[]; nextCursor: string | null }>(
      await app.call(`/v1/deliveries?status=failed&limit=3&cursor=${page1.nextCursor}`),
    );
    assert.equal(page2.deliveries.length, 1);
    assert.equal(page2.nextCursor, null);
    const theirs = await json<{ deliveries: Dead[] }>(await other.call('/v1/deliveries'));
    assert.equal(theirs.deliveries.length, 1, 'the other app sees only its own');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await json<{ deliveries: Dead[] }>(
      await app.call(`/v1/deliveries?from=${encodeURIComponent(future)}`),
    );
    assert.equal(none.deliveries.length, 0, 'from: ended at or after');
    const bad = await app.call('/v1/deliveries?status=sent');
    assert.equal(bad.status, 400);
    assert.equal((await json<{ error: { code: string } }>(bad)).error.code, 'invalid_request');
  });

  test('a dry run counts and changes nothing', async () => {
    const before = await countRows(h.db.url, ['delivery_events']);
    const res = await app.call('/v1/deliveries/redrive', { body: { status: 'failed', dryRun: true } });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await json<Redrive>(res);
    assert.equal(body.dryRun, true);
    assert.equal(body.matched, USERS.length);
    assert.equal(body.redriven, 0);
    assert.deepEqual(await countRows(h.db.url, ['delivery_events']), before);
    const listed = await json<{ deliveries: Dead[] }>(await app.call('/v1/deliveries'));
    assert.equal(listed.deliveries.length, USERS.length, 'still failed');
  });

  test("another app's deliveries cannot be re-driven, not even by id", async () => {
    const [zed] = await deliveriesOf(other, notifications.at(-1)!);
    const res = await app.call('/v1/deliveries/redrive', { body: { ids: [zed!.id] } });
    assert.equal(res.status, 200);
    assert.equal((await json<Redrive>(res)).matched, 0);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await deliveriesOf(other, notifications.at(-1)!))[0]!.status, 'failed');
    assert.equal(h.sandbox.recorder.count({ to: 'zed', outcome: 'accepted' }), 0);
  });

  test('re-driven after the outage: all sent, the history shows failed then sent; an opted-out user is suppressed, not sent', async () => {
    const optOut = await app.call('/v1/users/dee/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'webhook', enabled: false }] },
    });
    assert.equal(optOut.status, 200);
    const bounded = await json<Redrive>(
      await app.call('/v1/deliveries/redrive', { body: { status: 'failed', limit: 2 } }),
    );
    assert.equal(bounded.matched, 2);
    assert.ok(bounded.nextCursor, 'a bounded request says where to continue');
    const rest = await json<Redrive>(
      await app.call('/v1/deliveries/redrive', {
        body: { status: 'failed', cursor: bounded.nextCursor },
      }),
    );
    assert.equal(rest.nextCursor, null);
    assert.equal(bounded.redriven + rest.redriven, 3);
    assert.equal(bounded.suppressed + rest.suppressed, 1);
    const ids = notifications.slice(0, USERS.length);
    const all = await allEnded(app, ids, ['sent', 'suppressed']);
    for (const user of ['ana', 'ben', 'cai']) {
      const d = all.find((x) => x.userId === user)!;
      assert.equal(d.status, 'sent', user);
      const steps = d.events.map((e) => e.status).filter((s) => s !== 'queued' && s !== 'retrying');
      assert.deepEqual(steps, ['pending', 'failed', 'redriven', 'sent'], user);
      await h.sandbox.recorder.waitFor(1, { to: user, outcome: 'accepted' });
    }
    const dee = all.find((x) => x.userId === 'dee')!;
    assert.equal(dee.status, 'suppressed');
    assert.equal(dee.reason, 'opted_out');
    assert.deepEqual(dee.events.map((e) => e.status).slice(-3), ['failed', 'redriven', 'suppressed']);
    assert.equal(h.sandbox.recorder.count({ to: 'dee', outcome: 'accepted' }), 0);
    const again = await json<Redrive>(await app.call('/v1/deliveries/redrive', { body: {} }));
    assert.equal(again.matched, 0, 'nothing failed is left');
  });

  test('ids and a filter together are refused, as are malformed ids, a limit over 10,000 and client keys', async () => {
    const both = await app.call('/v1/deliveries/redrive', {
      body: { ids: ['0190a000-0000-7000-8000-000000000000'], status: 'failed' },
    });
    assert.equal(both.status, 400);
    const bad = await app.call('/v1/deliveries/redrive', { body: { ids: ['nope'] } });
    assert.equal(bad.status, 400);
    const tooMany = await app.call('/v1/deliveries/redrive', { body: { limit: 10_001 } });
    assert.equal(tooMany.status, 400);
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const headers = {
      authorization: basic(client.appKey, client.appSecret),
      'x-clarion-user-token': await signUserToken('ana', app.userTokenSecret),
    };
    assert.equal((await fetch(`${h.url}/v1/deliveries`, { headers })).status, 403, 'server keys only');
    const asClient = await fetch(`${h.url}/v1/deliveries/redrive`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(asClient.status, 403);
  });
});
