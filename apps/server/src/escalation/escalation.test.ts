import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { signUserToken } from '../auth/user-token';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Step {
  userId: string;
  step: number;
  channel: string;
  dueAt: string;
  unless: string[];
  status: string;
  settledAt: string | null;
}
interface Delivery {
  id: string;
  userId: string;
  channel: string;
  status: string;
  reason: string | null;
  createdAt: string;
}
interface NotificationBody {
  steps: Step[];
  deliveries: Delivery[];
}
interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

/**
 * Escalation through the public API: the first step (the in-app inbox) goes out at once; the
 * second (a webhook standing in for SMS) only when its wait is over and the user has not opened
 * the first. The relay checks for due steps every 200 ms here.
 */
describe('escalation steps: later channels only if the earlier ones were not seen', () => {
  let h: Harness;
  let app: TestApp;
  let client: { appKey: string; appSecret: string };

  before(async () => {
    h = await startHarness({
      label: 'escalation',
      env: { CLARION_SCHEDULE_CHECK_INTERVAL_MS: '200', CLARION_FANOUT_THRESHOLD: '3' },
    });
    app = await h.createApp({ allowClientSending: true, clientTemplates: ['hello'] });
    client = await json(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    for (const u of ['ana', 'ben', 'cy', 'dee', 'eve']) {
      const put = await app.call(`/v1/users/${u}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${u}` },
      });
      assert.equal(put.status, 201);
    }
  });
  after(() => h?.close());

  const escalating = (user: string, after: string, extra: Record<string, unknown> = {}) => ({
    to: { userId: user },
    content: { inbox: { title: 'Your code', body: '123456' }, webhook: { json: { code: '123456' } } },
    steps: [{ channel: 'inbox' }, { channel: 'webhook', after, unless: ['opened', 'clicked'] }],
    ...extra,
  });
  const send = async (body: unknown) => {
    const res = await app.call('/v1/notifications', { body });
    assert.equal(res.status, 202, await res.clone().text());
    return json<{ id: string; deliveries: number; suppressed: number }>(res);
  };
  const read = async (id: string) => json<NotificationBody>(await app.call(`/v1/notifications/${id}`));
  const webhookOf = (n: NotificationBody) => n.deliveries.filter((d) => d.channel === 'webhook');
  /** The user reads the inbox message (here on the server key's behalf): records `opened`. */
  const openInbox = async (user: string, notificationId: string) => {
    const message = await waitFor('the inbox message', async () => {
      const page = await json<{ messages: { id: string; notificationId: string }[] }>(
        await app.call(`/v1/inbox/messages?userId=${user}`),
      );
      return page.messages.find((m) => m.notificationId === notificationId);
    });
    const res = await app.call(`/v1/inbox/messages/${message.id}?userId=${user}`, {
      method: 'PATCH',
      body: { read: true },
    });
    assert.equal(res.status, 200, await res.clone().text());
  };

  test('bad steps are a 400 naming the problem, and store nothing', async () => {
    const before = await countRows(h.db.url, ['notifications', 'notification_steps']);
    const content = { inbox: { title: 't', body: 'b' }, webhook: { json: {} } };
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'with channels',
        { channels: ['inbox'], steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m' }] },
        'steps',
      ],
      [
        'to a topic',
        { to: { topic: 'news' }, steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m' }] },
        'steps',
      ],
      [
        'a first step with after',
        {
          steps: [
            { channel: 'inbox', after: '1m' },
            { channel: 'webhook', after: '1m' },
          ],
        },
        'steps.0.after',
      ],
      [
        'a first step with unless',
        {
          steps: [
            { channel: 'inbox', unless: ['opened'] },
            { channel: 'webhook', after: '1m' },
          ],
        },
        'steps.0.unless',
      ],
      [
        'a later step without after',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook' }] },
        'steps.1.after',
      ],
      [
        'a wait that is no duration',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '10 minutes' }] },
        'steps.1.after',
      ],
      [
        'a wait of more than 7 days',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '8d' }] },
        'steps.1.after',
      ],
      [
        'waits out of order',
        {
          steps: [
            { channel: 'inbox' },
            { channel: 'webhook', after: '1h' },
            { channel: 'inbox', after: '1m' },
          ],
        },
        'steps.2.after',
      ],
      [
        'an unknown condition',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m', unless: ['read'] }] },
        'steps.1.unless.0',
      ],
      [
        'an empty condition',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m', unless: [] }] },
        'steps.1.unless',
      ],
      [
        'a channel no plugin serves',
        { steps: [{ channel: 'inbox' }, { channel: 'pager', after: '1m' }] },
        'steps.1.channel',
      ],
      ['a single step', { steps: [{ channel: 'inbox' }] }, 'steps'],
      [
        'an unknown field',
        { steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m', when: 'later' }] },
        'steps.1',
      ],
    ];
    for (const [name, body, path] of cases) {
      const res = await app.call('/v1/notifications', { body: { to: { userId: 'ana' }, content, ...body } });
      assert.equal(res.status, 400, `${name}: ${res.status} ${await res.clone().text()}`);
      const { error } = await json<ErrorBody>(res);
      assert.equal(error.code, 'invalid_request', name);
      assert.ok(
        error.details.some((d) => d.path === `body.${path}`),
        `${name}: expected a problem at body.${path}, got ${JSON.stringify(error.details)}`,
      );
    }
    // More named users than the fan-out threshold (3 here): expanded in the background, where steps are not kept.
    const big = await app.call('/v1/notifications', {
      body: escalating('ana', '1m', { to: { userIds: ['ana', 'ben', 'cy', 'dee'] } }),
    });
    assert.equal(big.status, 400);
    assert.match((await json<ErrorBody>(big)).error.message, /steps need named users, at most 3/);
    // Client keys may not escalate (later steps would escape their SMS budget and link policy).
    const fromClient = await fetch(`${h.url}/v1/notifications`, {
      method: 'POST',
      headers: {
        authorization: basic(client.appKey, client.appSecret),
        'x-clarion-user-token': await signUserToken('ana', app.userTokenSecret),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        to: { userId: 'ana' },
        template: 'hello',
        steps: [{ channel: 'inbox' }, { channel: 'webhook', after: '1m' }],
      }),
    });
    assert.equal(fromClient.status, 403);
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'notification_steps']), before);
  });

  test('not seen: the first step goes out at once, the second when its wait is over', async () => {
    const sentAt = Date.now();
    const { id, deliveries } = await send(escalating('ana', '1s'));
    assert.equal(deliveries, 1, 'only the first step is planned at accept');
    const accepted = await read(id);
    assert.deepEqual(
      accepted.deliveries.map((d) => d.channel),
      ['inbox'],
    );
    assert.equal(accepted.steps.length, 1);
    const [waiting] = accepted.steps;
    assert.equal(waiting?.status, 'waiting');
    assert.equal(waiting?.channel, 'webhook');
    assert.equal(waiting?.userId, 'ana');
    assert.deepEqual(waiting?.unless, ['opened', 'clicked']);
    assert.ok(Date.parse(waiting!.dueAt) >= sentAt + 1000);

    const done = await waitFor('the webhook step sent', async () => {
      const n = await read(id);
      return webhookOf(n)[0]?.status === 'sent' ? n : undefined;
    });
    assert.equal(done.steps[0]?.status, 'planned');
    const [webhook] = webhookOf(done);
    assert.ok(Date.parse(webhook!.createdAt) >= Date.parse(waiting!.dueAt), 'planned when due, not before');
    assert.equal(webhookOf(done).length, 1);
  });

  test('opened before the wait is over: the step is skipped at once (suppressed, `engaged`), never sent', async () => {
    const { id } = await send(escalating('ben', '1h'));
    await openInbox('ben', id);
    const n = await waitFor('the step skipped', async () => {
      const body = await read(id);
      return body.steps[0]?.status === 'skipped' ? body : undefined;
    });
    assert.ok(n.steps[0]?.settledAt);
    assert.deepEqual(
      webhookOf(n).map((d) => [d.status, d.reason]),
      [['suppressed', 'engaged']],
    );
  });

  test('an engagement no listener heard (written straight to PostgreSQL) still skips the step when it falls due', async () => {
    const { id } = await send(escalating('eve', '4s'));
    const inbox = await waitFor('the inbox step sent', async () => {
      const d = (await read(id)).deliveries.find((x) => x.channel === 'inbox');
      return d?.status === 'sent' ? d : undefined;
    });
    // As if the process that recorded the open died before its listener ran.
    await sql(h.db.url, `UPDATE deliveries SET status = 'clicked' WHERE id = $1`, [inbox.id]);
    assert.equal((await read(id)).steps[0]?.status, 'waiting');
    const n = await waitFor('the step settled when due', async () => {
      const body = await read(id);
      return body.steps[0]?.status === 'waiting' ? undefined : body;
    });
    assert.equal(n.steps[0]?.status, 'skipped', 'a click counts for `opened` too');
    assert.deepEqual(
      webhookOf(n).map((d) => [d.status, d.reason]),
      [['suppressed', 'engaged']],
    );
  });

  test('cancel stops a waiting step (counted in the answer), even once the first step is sent', async () => {
    const { id } = await send(escalating('cy', '1h'));
    await waitFor('the inbox step sent', async () => (await read(id)).deliveries[0]?.status === 'sent');
    const res = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await json(res), { id, status: 'canceled', canceled: 0, inFlight: 0, steps: 1 });
    const n = await read(id);
    assert.equal(n.steps[0]?.status, 'canceled');
    assert.equal(webhookOf(n).length, 0);
    const again = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(again.status, 409);
  });

  test('preferences apply when the step runs: an opt-out made during the wait suppresses it', async () => {
    const { id } = await send(escalating('dee', '2s'));
    const put = await app.call('/v1/users/dee/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'webhook', enabled: false }] },
    });
    assert.equal(put.status, 200);
    const n = await waitFor('the step planned', async () => {
      const body = await read(id);
      return body.steps[0]?.status === 'planned' ? body : undefined;
    });
    assert.deepEqual(
      webhookOf(n).map((d) => [d.status, d.reason]),
      [['suppressed', 'opted_out']],
    );
  });

  test('a scheduled notification waits from its sendAt; steps run for each named user', async () => {
    const sendAt = new Date(Date.now() + 60_000).toISOString();
    const { id } = await send(escalating('eve', '5m', { to: { userIds: ['eve', 'ana', 'nobody'] }, sendAt }));
    const n = await read(id);
    assert.deepEqual(
      n.steps.map((s) => [s.userId, s.dueAt]),
      [
        ['ana', new Date(Date.parse(sendAt) + 300_000).toISOString()],
        ['eve', new Date(Date.parse(sendAt) + 300_000).toISOString()],
      ],
    );
    const res = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(((await json(res)) as { steps: number }).steps, 2);
  });
});
