import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { signUserToken } from '../auth/user-token';
import { assertAnswerMatches } from '../testing/contract-check';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { readSse } from './inbox-sse-reader';

interface Message {
  id: string;
  notificationId: string;
  title: string;
  body: string;
  url: string | null;
  data: Record<string, unknown> | null;
  readAt: string | null;
  archivedAt: string | null;
}
interface Page {
  messages: Message[];
  nextCursor: string | null;
  unread: number;
}
interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

describe('in-app inbox: channel, API, live stream across API processes', () => {
  let h: Harness;
  let app: TestApp;
  let client: { appKey: string; appSecret: string };
  const processes = new Processes();

  before(async () => {
    h = await startHarness({ label: 'inbox' });
    app = await h.createApp();
    client = await json(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    for (const id of ['ana', 'ben', 'cy', 'dee'])
      assert.equal((await app.call(`/v1/users/${id}`, { method: 'PUT', body: {} })).status, 201);
  });
  after(async () => {
    await processes.killAll();
    await h?.close();
  });

  /** A call with the client key as the signed-in `user`, checked against the OpenAPI document. */
  const asUser = async (
    user: string,
    path: string,
    init: { method?: string; body?: unknown; base?: string; signal?: AbortSignal } = {},
  ) => {
    const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
    const res = await fetch(`${init.base ?? h.url}${path}`, {
      method,
      headers: {
        authorization: basic(client.appKey, client.appSecret),
        'x-clarion-user-token': await signUserToken(user, app.userTokenSecret),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return assertAnswerMatches(method, path, res);
  };
  const send = async (user: string, title: string, extra: Record<string, unknown> = {}) => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: user },
        content: {
          inbox: { title, body: 'Hello {{ user.id }}', url: 'https://shop.example/o/1', data: { n: 1 } },
        },
        ...extra,
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };
  const page = async (user: string, query = '') =>
    json<Page>(await asUser(user, `/v1/inbox/messages${query}`));
  const errorOf = async (res: Response, status: number) => {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${await res.clone().text()}`);
    return (await json<ErrorBody>(res)).error;
  };
  const deliveryOf = async (notificationId: string) => {
    const n = await json<{
      deliveries: { id: string; channel: string; status: string; reason: string | null }[];
    }>(await app.call(`/v1/notifications/${notificationId}`));
    return n.deliveries.find((d) => d.channel === 'inbox');
  };

  test('a notification with content.inbox becomes a message for a user with no address; a read is `opened`', async () => {
    const id = await send('ana', 'Order shipped');
    const message = await waitFor('the message', async () => (await page('ana')).messages[0]);
    assert.equal(message.title, 'Order shipped');
    assert.equal(message.body, 'Hello ana');
    assert.equal(message.url, 'https://shop.example/o/1');
    assert.deepEqual(message.data, { n: 1 });
    assert.equal(message.notificationId, id);
    assert.equal(message.readAt, null);
    await waitFor('delivery sent', async () => (await deliveryOf(id))?.status === 'sent');
    assert.equal((await json<{ unread: number }>(await asUser('ana', '/v1/inbox/unread-count'))).unread, 1);

    const read = await json<{ message: Message; unread: number }>(
      await asUser('ana', `/v1/inbox/messages/${message.id}`, { method: 'PATCH', body: { read: true } }),
    );
    assert.ok(read.message.readAt);
    assert.equal(read.unread, 0);
    assert.equal((await deliveryOf(id))?.status, 'opened');
    const unread = await json<{ message: Message; unread: number }>(
      await asUser('ana', `/v1/inbox/messages/${message.id}`, { method: 'PATCH', body: { read: false } }),
    );
    assert.equal(unread.message.readAt, null);
    assert.equal(unread.unread, 1);
    const archived = await json<{ message: Message; unread: number }>(
      await asUser('ana', `/v1/inbox/messages/${message.id}`, { method: 'PATCH', body: { archived: true } }),
    );
    assert.ok(archived.message.archivedAt);
    assert.equal(archived.unread, 0, 'an archived message is not counted');
    assert.deepEqual((await page('ana')).messages, []);
    assert.equal((await page('ana', '?view=archived')).messages.length, 1);
  });

  test('preferences apply: inbox turned off for the user suppresses the delivery, no message', async () => {
    const put = await app.call('/v1/users/dee/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'inbox', enabled: false }] },
    });
    assert.equal(put.status, 200, await put.clone().text());
    const id = await send('dee', 'Muted');
    const d = await deliveryOf(id);
    assert.equal(d?.status, 'suppressed');
    assert.equal((await page('dee')).messages.length, 0);
  });

  test('de-duplication applies: the same eventId twice makes one message', async () => {
    const body = { to: { userId: 'cy' }, eventId: 'inbox-dedup-1', content: { inbox: { title: 'Once' } } };
    const created = await app.call('/v1/notifications', { body });
    assert.equal(created.status, 202);
    const first = (await json<{ id: string }>(created)).id;
    const again = await app.call('/v1/notifications', { body });
    assert.equal(again.status, 200);
    assert.deepEqual(await json(again), { id: first, status: 'duplicate', duplicate: true });
    await waitFor('delivery sent', async () => (await deliveryOf(first))?.status === 'sent');
    const titles = (await page('cy', '?view=all')).messages.map((m) => m.title);
    assert.deepEqual(titles, ['Once']);
    await asUser('cy', '/v1/inbox/messages/mark-all', { body: { archived: true } });
  });

  test('pages by keyset cursor, newest first; mark-all read and archive', async () => {
    for (const title of ['one', 'two', 'three']) await send('ben', title);
    await waitFor('three messages', async () => (await page('ben')).messages.length === 3);
    const first = await page('ben', '?limit=2');
    assert.deepEqual(
      first.messages.map((m) => m.title),
      ['three', 'two'],
    );
    assert.ok(first.nextCursor);
    // A message arriving between pages does not shift the next one.
    await send('ben', 'four');
    await waitFor('four', async () => (await page('ben')).messages.length === 4);
    const second = await page('ben', `?limit=2&cursor=${first.nextCursor}`);
    assert.deepEqual(
      second.messages.map((m) => m.title),
      ['one'],
    );
    assert.equal(second.nextCursor, null);

    const all = await json<{ updated: number; unread: number }>(
      await asUser('ben', '/v1/inbox/messages/mark-all', { body: { read: true } }),
    );
    assert.deepEqual(all, { updated: 4, unread: 0 });
    const again = await json<{ updated: number }>(
      await asUser('ben', '/v1/inbox/messages/mark-all', { body: { read: true } }),
    );
    assert.equal(again.updated, 0, 'nothing left to move');
    const archived = await json<{ updated: number }>(
      await asUser('ben', '/v1/inbox/messages/mark-all', { body: { archived: true } }),
    );
    assert.equal(archived.updated, 4);
    assert.equal((await page('ben')).messages.length, 0);
    // A server key acts for any user by ?userId=.
    const byServer = await json<Page>(await app.call('/v1/inbox/messages?userId=ben&view=all'));
    assert.equal(byServer.messages.length, 4);
  });

  test('bad requests are clear 4xx and change nothing', async () => {
    const id = await send('cy', 'keep');
    const m = await waitFor('the message', async () => (await page('cy')).messages[0]);
    assert.equal((await errorOf(await app.call('/v1/inbox/messages'), 400)).code, 'invalid_request');
    assert.equal((await errorOf(await asUser('cy', '/v1/inbox/messages?userId=ana'), 403)).code, 'forbidden');
    assert.equal(
      (await errorOf(await asUser('cy', '/v1/inbox/messages?limit=0'), 400)).code,
      'invalid_request',
    );
    assert.equal(
      (await errorOf(await asUser('cy', '/v1/inbox/messages?cursor=nope'), 400)).code,
      'invalid_request',
    );
    // Another user's message is not a cursor, nor changeable.
    const [ana] = (await page('ana', '?view=all')).messages;
    assert.equal(
      (await errorOf(await asUser('cy', `/v1/inbox/messages?cursor=${ana!.id}`), 400)).code,
      'invalid_request',
    );
    assert.equal(
      (
        await errorOf(
          await asUser('cy', `/v1/inbox/messages/${ana!.id}`, { method: 'PATCH', body: { read: true } }),
          404,
        )
      ).code,
      'not_found',
    );
    assert.equal(
      (await errorOf(await asUser('cy', `/v1/inbox/messages/${m.id}`, { method: 'PATCH', body: {} }), 400))
        .code,
      'invalid_request',
    );
    assert.equal(
      (
        await errorOf(
          await asUser('cy', `/v1/inbox/messages/${m.id}`, { method: 'PATCH', body: { read: 'yes' } }),
          400,
        )
      ).code,
      'invalid_request',
    );
    assert.equal(
      (
        await errorOf(
          await asUser('cy', '/v1/inbox/messages/not-a-uuid', { method: 'PATCH', body: { read: true } }),
          400,
        )
      ).code,
      'invalid_request',
    );
    assert.equal((await errorOf(await asUser('nobody', '/v1/inbox/unread-count'), 404)).code, 'not_found');
    const bad = await app.call('/v1/notifications', {
      body: { to: { userId: 'cy' }, content: { inbox: { body: 'no title' } } },
    });
    assert.equal((await errorOf(bad, 400)).code, 'invalid_request');
    const after = await page('cy');
    assert.equal(after.messages.length, 1);
    assert.equal(after.unread, 1);
    assert.equal((await deliveryOf(id))?.status, 'sent');
  });

  test('a message sent through one API process reaches a stream opened on another', async () => {
    const other = await processes.startClarion(
      'api-2',
      'api',
      h.childEnv({ CLARION_MIGRATE_ON_START: 'false' }),
    );
    const abort = new AbortController();
    const res = await asUser('dee', '/v1/inbox/stream', { base: other.url, signal: abort.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = readSse(res);
    await waitFor('the first unread count', () => stream.events.some((e) => e.event === 'unread'));
    assert.deepEqual(stream.events[0], { event: 'unread', data: { unread: 0 } });
    await app.call('/v1/users/dee/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'inbox', enabled: null }] },
    });
    await send('dee', 'Live');
    const live = await waitFor('the live message', () => stream.events.find((e) => e.event === 'message'));
    const message = live.data as Message;
    assert.equal(message.title, 'Live');
    // A read through the first process updates the count on the stream of the second.
    await asUser('dee', `/v1/inbox/messages/${message.id}`, { method: 'PATCH', body: { read: true } });
    await waitFor('the count after the read', () =>
      stream.events.some(
        (e) => e.event === 'unread' && (e.data as { unread: number }).unread === 0 && e !== stream.events[0],
      ),
    );
    abort.abort();
    await stream.done;

    // Stopping an API process ends its open streams (clients reconnect elsewhere) instead of hanging.
    const open = readSse(await asUser('dee', '/v1/inbox/stream', { base: other.url }));
    await waitFor('the stream is open', () => open.events.length > 0);
    other.kill('SIGTERM');
    assert.equal(await other.exited, 0, other.output());
    await open.done;
  });
});
