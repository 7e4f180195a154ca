import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testRedis, waitFor } from '@clarion/testkit';
import { countRows, sql } from '../testing/db';
import { closeNow, DIGEST_WEBHOOK_CONTENT, digestMessagesTo, digestsOf } from '../testing/digests';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Digested {
  id: string;
  status: string;
  duplicate?: boolean;
  digest?: { id: string; closesAt: string };
}

describe('digests through the public API (one server)', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'digest',
      // Closing is checked often; a claim older than 1 s counts as a dead worker's.
      env: { CLARION_SCHEDULE_CHECK_INTERVAL_MS: '200', CLARION_SWEEP_AFTER_MS: '1000' },
    });
    app = await h.createApp();
    for (const user of ['dg-1', 'dg-2', 'dg-3', 'dg-tpl', 'dg-tpl-2', 'dg-batch']) {
      const res = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await h?.close();
  });

  const join = async (user: string, n: number, extra: Record<string, unknown> = {}) => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: user },
        content: DIGEST_WEBHOOK_CONTENT,
        data: { n: String(n) },
        digest: { key: 'comments', window: '5s' },
        ...extra,
      },
    });
    return { status: res.status, body: await json<Digested>(res) };
  };

  test('items joined in one window go out as one message after it, with count, first, last and items; Redis flushed meanwhile changes nothing', async () => {
    const first = await join('dg-1', 1);
    assert.equal(first.status, 202);
    assert.equal(first.body.status, 'digested');
    const digest = first.body.digest!;
    for (const n of [2, 3]) {
      const next = await join('dg-1', n);
      assert.equal(next.status, 202);
      assert.deepEqual(next.body.digest, digest, 'the same open digest');
    }
    // A joined notification reads as `digested`, with no deliveries of its own.
    const read = await json<{ status: string; deliveries: unknown[] }>(
      await app.call(`/v1/notifications/${first.body.id}`),
    );
    assert.equal(read.status, 'digested');
    assert.deepEqual(read.deliveries, []);

    // The digest lives in PostgreSQL only: losing every Redis key of this server changes nothing.
    const redis = testRedis();
    await clearPrefix(redis, h.prefix);
    redis.disconnect();

    const [message] = await waitFor('the digest message', () => {
      const got = digestMessagesTo(h.sandbox, 'dg-1');
      return got.length > 0 ? got : undefined;
    });
    assert.deepEqual(message!.content, { count: '3', first: '1', last: '3', items: '1,2,3,' });
    assert.ok(Date.parse(message!.receivedAt) >= Date.parse(digest.closesAt), 'not before the window closed');
    const [row] = await digestsOf(h.db.url, app.id);
    assert.equal(row!.status, 'sent');
    assert.equal(row!.notification_id, message!.notificationId);

    // Sent is final (closing only claims open or closing digests), and its message is one notification.
    const messages = await sql<{ id: string }>(h.db.url, 'SELECT id FROM notifications WHERE event_id = $1', [
      `digest:${digest.id}`,
    ]);
    assert.deepEqual(
      messages.map((m) => m.id),
      [message!.notificationId],
    );
    assert.equal(digestMessagesTo(h.sandbox, 'dg-1').length, 1);
  });

  test('after a digest closed, the next notification opens a new one', async () => {
    const a = await join('dg-2', 1);
    await closeNow(h.db.url, a.body.digest!.id);
    await waitFor('first sent', () => digestMessagesTo(h.sandbox, 'dg-2').length === 1);
    const b = await join('dg-2', 2);
    assert.equal(b.status, 202);
    assert.notEqual(b.body.digest!.id, a.body.digest!.id, 'a new digest');
    await closeNow(h.db.url, b.body.digest!.id);
    await waitFor('second sent', () => digestMessagesTo(h.sandbox, 'dg-2').length === 2);
    assert.deepEqual(
      digestMessagesTo(h.sandbox, 'dg-2').map((m) => m.content),
      [
        { count: '1', first: '1', last: '1', items: '1,' },
        { count: '1', first: '2', last: '2', items: '2,' },
      ],
    );
  });

  test('a window that passed while nobody closed it yet is closed by the next join, which opens a new one', async () => {
    const a = await join('dg-3', 1);
    // The window ends; the next join comes before any worker pass could close it.
    await sql(h.db.url, `UPDATE digests SET closes_at = now() - interval '1 second' WHERE id = $1`, [
      a.body.digest!.id,
    ]);
    const b = await join('dg-3', 2);
    assert.notEqual(b.body.digest!.id, a.body.digest!.id);
    await closeNow(h.db.url, b.body.digest!.id);
    await waitFor('both sent', () => digestMessagesTo(h.sandbox, 'dg-3').length === 2);
    const counts = digestMessagesTo(h.sandbox, 'dg-3')
      .map((m) => m.content.items)
      .sort();
    assert.deepEqual(counts, ['1,', '2,']);
  });

  test('a repeated eventId joins nothing twice: 200 with the first id; another body is a 409', async () => {
    const body = { eventId: 'comment-77' };
    const first = await join('dg-dedup', 1, body);
    assert.equal(first.status, 202);
    const again = await join('dg-dedup', 1, body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, { id: first.body.id, status: 'duplicate', duplicate: true });
    const other = await join('dg-dedup', 2, body);
    assert.equal(other.status, 409);
    const [row] = await sql<{ item_count: number }>(
      h.db.url,
      'SELECT item_count FROM digests WHERE id = $1',
      [first.body.digest!.id],
    );
    assert.equal(row!.item_count, 1);
  });

  test('a template renders the message; one that cannot render is a 422 at the join; one archived before the close leaves the digest failed', async () => {
    const put = (key: string, json: Record<string, string>) =>
      app.call(`/v1/templates/${key}`, { method: 'PUT', body: { content: { webhook: { json } } } });
    assert.equal((await put('dg-comments', DIGEST_WEBHOOK_CONTENT.webhook.json)).status, 201);
    assert.equal(
      (await put('dg-broken', { text: '{{ data.digest.count }} {{ data.missing }}' })).status,
      201,
    );
    assert.equal((await put('dg-archived', { text: '{{ data.digest.count }}' })).status, 201);
    const send = (user: string, template: string, n: number) =>
      app.call('/v1/notifications', {
        body: {
          to: { userId: user },
          template,
          data: { n: String(n) },
          digest: { key: 'tpl', window: '1h' },
        },
      });

    const before = await countRows(h.db.url, ['digests', 'digest_items', 'notifications']);
    const broken = await send('dg-tpl', 'dg-broken', 1);
    assert.equal(broken.status, 422);
    assert.match(await broken.text(), /data\.missing/);
    assert.deepEqual(await countRows(h.db.url, ['digests', 'digest_items', 'notifications']), before);

    const a = await json<Digested>(await send('dg-tpl', 'dg-comments', 1));
    await send('dg-tpl', 'dg-comments', 2);
    await closeNow(h.db.url, a.digest!.id);
    await waitFor('the templated message', () => digestMessagesTo(h.sandbox, 'dg-tpl').length === 1);
    assert.deepEqual(digestMessagesTo(h.sandbox, 'dg-tpl')[0]!.content, {
      count: '2',
      first: '1',
      last: '2',
      items: '1,2,',
    });

    const b = await json<Digested>(await send('dg-tpl-2', 'dg-archived', 1));
    assert.equal((await app.call('/v1/templates/dg-archived', { method: 'DELETE' })).status, 204);
    await closeNow(h.db.url, b.digest!.id);
    const [failed] = await waitFor('failed', async () => {
      const rows = await sql<{ status: string; error: string | null; notification_id: string | null }>(
        h.db.url,
        'SELECT status, error, notification_id FROM digests WHERE id = $1',
        [b.digest!.id],
      );
      return rows[0]?.status === 'failed' ? rows : undefined;
    });
    assert.match(failed!.error ?? '', /unknown_template/);
    assert.equal(failed!.notification_id, null);
    assert.deepEqual(digestMessagesTo(h.sandbox, 'dg-tpl-2'), []);
  });

  test('batch items join digests each on their own', async () => {
    const item = (n: number) => ({
      to: { userId: 'dg-batch' },
      content: DIGEST_WEBHOOK_CONTENT,
      data: { n: String(n) },
      digest: { key: 'batch', window: '1h' },
    });
    const res = await app.call('/v1/notifications/batch', { body: { notifications: [item(1), item(2)] } });
    assert.equal(res.status, 207);
    const { results } = await json<{ results: { status: number; state: string; digest: { id: string } }[] }>(
      res,
    );
    assert.deepEqual(
      results.map((r) => [r.status, r.state]),
      [
        [202, 'digested'],
        [202, 'digested'],
      ],
    );
    assert.equal(results[0]!.digest.id, results[1]!.digest.id);
    await closeNow(h.db.url, results[0]!.digest.id);
    await waitFor('the batch digest message', () => digestMessagesTo(h.sandbox, 'dg-batch').length === 1);
    assert.equal(digestMessagesTo(h.sandbox, 'dg-batch')[0]!.content.count, '2');
  });

  test('every bad digest is a 400 that names the problem and stores nothing', async () => {
    const before = await countRows(h.db.url, ['digests', 'digest_items', 'notifications', 'event_ids']);
    const base = { to: { userId: 'dg-bad' }, content: DIGEST_WEBHOOK_CONTENT };
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['empty key', { digest: { key: '', window: '15m' } }, /key/],
      ['key too long', { digest: { key: 'k'.repeat(101), window: '15m' } }, /key/],
      ['key with spaces', { digest: { key: 'a b', window: '15m' } }, /key/],
      ['no window', { digest: { key: 'c' } }, /window/],
      ['window not a duration', { digest: { key: 'c', window: 'soon' } }, /30s, 15m/],
      ['window too short', { digest: { key: 'c', window: '1s' } }, /between 5s and 7d/],
      ['window too long', { digest: { key: 'c', window: '8d' } }, /between 5s and 7d/],
      ['unknown field', { digest: { key: 'c', window: '1m', max: 3 } }, /max/],
      ['to userIds', { to: { userIds: ['a', 'b'] }, digest: { key: 'c', window: '1m' } }, /to\.userId/],
      ['to topic', { to: { topic: 'news' }, digest: { key: 'c', window: '1m' } }, /to\.userId/],
      [
        'with sendAt',
        { sendAt: new Date(Date.now() + 60_000).toISOString(), digest: { key: 'c', window: '1m' } },
        /sendAt/,
      ],
      [
        'with escalation steps',
        {
          digest: { key: 'c', window: '1m' },
          content: { webhook: DIGEST_WEBHOOK_CONTENT.webhook, sms: { text: 'x' } },
          steps: [{ channel: 'webhook' }, { channel: 'sms', after: '1m', unless: ['opened'] }],
        },
        /digest cannot be combined with steps/,
      ],
      ['a digest eventId', { eventId: 'digest:0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f' }, /reserved/],
    ];
    for (const [name, body, problem] of cases) {
      const res = await app.call('/v1/notifications', { body: { ...base, ...body } });
      const text = await res.text();
      assert.equal(res.status, 400, `${name}: ${text}`);
      assert.match(text, problem, name);
    }
    assert.deepEqual(
      await countRows(h.db.url, ['digests', 'digest_items', 'notifications', 'event_ids']),
      before,
    );
  });
});
