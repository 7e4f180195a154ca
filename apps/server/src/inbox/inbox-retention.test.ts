import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DataSource } from 'typeorm';
import { v7 } from 'uuid';
import { loadEnv } from '../config/env';
import { createDataSource } from '../database/data-source';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Retention } from '../tracking/retention';

const DAY = 86_400_000;

interface Page {
  messages: { id: string; title: string }[];
  nextCursor: string | null;
  unread: number;
}

/** A stored message: its id (the delivery's) made `idAgeDays` ago, written `ageDays` ago. */
interface Seed {
  title: string;
  ageDays: number;
  idAgeDays?: number;
  read?: boolean;
  archived?: boolean;
}

describe('inbox retention: messages older than CLARION_INBOX_RETENTION_DAYS go, what a user sees stays right', () => {
  let h: Harness;
  let app: TestApp;
  let ds: DataSource;
  // One clock for the whole file: every age is from here, so no seed sits on a moving cut.
  const now = Date.now();

  before(async () => {
    h = await startHarness({ label: 'inbox_retention', role: 'api' });
    app = await h.createApp();
    ds = createDataSource(h.db.url, 2);
    await ds.initialize();
    for (const id of ['ana', 'ben'])
      assert.equal((await app.call(`/v1/users/${id}`, { method: 'PUT', body: {} })).status, 201);
    // Distinct milliseconds per message: ids sort as they were made.
    let ms = 0;
    const seed = async (user: string, messages: Seed[]) => {
      for (const m of messages) {
        const at = (days: number) => new Date(now - days * DAY + ms++);
        await sql(
          h.db.url,
          `INSERT INTO inbox_messages (id, app_id, user_id, notification_id, title, body, created_at, read_at, archived_at)
           SELECT $1, u.app_id, u.id, $2, $3, 'body', $4::timestamptz,
                  CASE WHEN $5::boolean THEN $4::timestamptz END, CASE WHEN $6::boolean THEN $4::timestamptz END
             FROM users u WHERE u.app_id = $7 AND u.external_id = $8`,
          [
            v7({ msecs: at(m.idAgeDays ?? m.ageDays).getTime() }),
            v7(),
            m.title,
            at(m.ageDays),
            m.read ?? false,
            m.archived ?? false,
            app.id,
            user,
          ],
        );
      }
    };
    await seed('ana', [
      { title: 'old unread 1', ageDays: 120 },
      { title: 'old unread 2', ageDays: 100 },
      { title: 'old read', ageDays: 95, read: true },
      { title: 'old archived', ageDays: 91, archived: true },
      // Scheduled 119 days ahead: its delivery id is that old, the message itself one day.
      { title: 'scheduled', ageDays: 1, idAgeDays: 120 },
      { title: 'edge', ageDays: 89 },
      { title: 'recent read', ageDays: 10, read: true },
      { title: 'recent unread', ageDays: 2 },
    ]);
    await seed('ben', [
      { title: 'ben old 1', ageDays: 200 },
      { title: 'ben old 2', ageDays: 150 },
      { title: 'ben old 3', ageDays: 91, read: true },
    ]);
  });
  after(async () => {
    await ds?.destroy();
    await h?.close();
  });

  /** Every message of the user, newest first, `limit` a page, through the API (server key, `?userId=`). */
  const feed = async (user: string, limit = 100) => {
    const titles: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await app.call(`/v1/inbox/messages?userId=${user}&view=all&limit=${limit}${cursor}`);
      assert.equal(res.status, 200, await res.clone().text());
      const page = await json<Page>(res);
      titles.push(...page.messages.map((m) => m.title));
      if (!page.nextCursor) return { titles, unread: page.unread };
      cursor = `&cursor=${page.nextCursor}`;
    }
  };
  const unreadCount = async (user: string) =>
    (await json<{ unread: number }>(await app.call(`/v1/inbox/unread-count?userId=${user}`))).unread;
  const retention = (days: string) =>
    new Retention(ds, loadEnv({ ...h.childEnv(), CLARION_INBOX_RETENTION_DAYS: days }));
  // Statements of a pass with the inbox left alone (the other tables' batches).
  let otherBatches = 0;

  test('the default keeps 90 days', () => {
    assert.equal(loadEnv(h.childEnv()).CLARION_INBOX_RETENTION_DAYS, 90);
  });

  test('0 keeps every message', async () => {
    const result = await retention('0').prune(new Date(now), 30, 2);
    assert.equal(result?.inboxMessages, 0);
    otherBatches = result?.batches ?? 0;
    assert.equal((await feed('ana')).titles.length, 8);
    assert.equal(await unreadCount('ana'), 5);
    assert.equal((await feed('ben')).titles.length, 3);
  });

  test('90 days: older messages go in batches, newer ones stay; the feed, its paging and the unread count agree', async () => {
    const result = await retention('90').prune(new Date(now), 30, 2);
    assert.ok(result);
    assert.equal(result.inboxMessages, 7, 'ana 4 (unread, read, archived), ben 3');
    // Eight messages have ids below the cut's floor (the scheduled one too), two a statement:
    // four full batches and the empty one that ends the walk.
    assert.equal(result.batches - otherBatches, 5);

    const ana = await feed('ana');
    assert.deepEqual(ana.titles, ['scheduled', 'recent unread', 'recent read', 'edge']);
    assert.equal(ana.unread, 3, 'scheduled, recent unread, edge');
    assert.equal(await unreadCount('ana'), 3);
    assert.deepEqual((await feed('ana', 1)).titles, ana.titles, 'one message a page, by cursor');
    const unreadView = await json<Page>(await app.call('/v1/inbox/messages?userId=ana&view=unread'));
    assert.deepEqual(
      unreadView.messages.map((m) => m.title),
      ['scheduled', 'recent unread', 'edge'],
    );
    assert.deepEqual(await feed('ben'), { titles: [], unread: 0 });
    assert.equal(await unreadCount('ben'), 0);

    // A change after the purge counts from what is left.
    const edge = unreadView.messages.find((m) => m.title === 'edge');
    const read = await app.call(`/v1/inbox/messages/${edge?.id}?userId=ana`, {
      method: 'PATCH',
      body: { read: true },
    });
    assert.equal(read.status, 200, await read.clone().text());
    assert.equal((await json<{ unread: number }>(read)).unread, 2);

    const again = await retention('90').prune(new Date(now), 30, 2);
    assert.equal(again?.inboxMessages, 0, 'a second pass finds nothing more');
  });
});
