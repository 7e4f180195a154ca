import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'pg';
import { seedTopicAudience } from '../testing/db';
import { explainAnalyze, type PlanDatabase, planDatabase, rowsExamined } from '../testing/plan-rows';
import { TOPIC_PAGE_SQL } from './user-repository';

const SUBSCRIBERS = 200_000;
const PAGE = 1000;

/**
 * A fan-out reads its topic page by page: a page deep into a large topic must read about a page
 * of rows, not every subscriber before it (the million scenario slowed to a third of its rate on
 * that: 1.3 s a page at 600,000 in).
 */
describe('topic pages: each page reads its own rows, however deep into the topic', () => {
  let db: PlanDatabase;
  let c: Client;
  const appId = randomUUID();
  const other = randomUUID();

  before(async () => {
    db = await planDatabase('topic_page_plan');
    c = db.c;
    for (const id of [appId, other])
      await c.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'plan', 'x')`, [id]);
    const base = 'http://127.0.0.1:9/webhook/';
    await seedTopicAudience(db.url, {
      appId,
      topic: 'all',
      users: SUBSCRIBERS,
      prefix: 'u',
      webhookBase: base,
    });
    // Another topic and another app's subscribers interleave in the index: they must not be read.
    await seedTopicAudience(db.url, { appId, topic: 'few', users: 5000, prefix: 'f', webhookBase: base });
    await seedTopicAudience(db.url, {
      appId: other,
      topic: 'all',
      users: 5000,
      prefix: 'o',
      webhookBase: base,
    });
    await c.query('ANALYZE');
  });
  after(async () => {
    await db?.close();
  });

  const cursorAt = async (offset: number) =>
    (
      await c.query<{ user_id: string }>(
        `SELECT user_id FROM topic_subscriptions WHERE app_id = $1 AND topic = 'all' ORDER BY user_id OFFSET $2 LIMIT 1`,
        [appId, offset],
      )
    ).rows[0]!.user_id;

  test('a page 150,000 subscribers in reads a page of subscriptions and of users', async () => {
    const cursor = await cursorAt(150_000);
    const plan = await explainAnalyze(c, TOPIC_PAGE_SQL, [appId, 'all', cursor, PAGE]);
    const subscriptions = rowsExamined(plan, 'topic_subscriptions');
    const users = rowsExamined(plan, 'users');
    assert.ok(subscriptions <= PAGE, `subscriptions read: ${subscriptions}`);
    assert.ok(users <= PAGE, `users read: ${users}`);
  });

  test('pages walk the topic in order, every subscriber once, none of another topic or app', async () => {
    let cursor: string | null = null;
    let seen = 0;
    let last = '';
    for (;;) {
      const page: { rows: { user_id: string; external_id: string }[] } = await c.query(TOPIC_PAGE_SQL, [
        appId,
        'all',
        cursor,
        20_000,
      ]);
      const rows = page.rows;
      if (rows.length === 0) break;
      for (const r of rows) {
        assert.ok(r.user_id > last, 'in id order, no repeats');
        assert.match(r.external_id, /^u\d+$/);
        last = r.user_id;
      }
      seen += rows.length;
      cursor = rows.at(-1)!.user_id;
    }
    assert.equal(seen, SUBSCRIBERS);
  });
});
