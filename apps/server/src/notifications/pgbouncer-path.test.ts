import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, waitFor } from '@clarion/testkit';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadEnv } from '../config/env';
import { runMigrations } from '../database/data-source';
import { seedTopicAudience, sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { NO_PGBOUNCER, OwnPgBouncer, pgbouncerBin } from '../testing/pgbouncer';
import { Retention } from '../tracking/retention';

interface NotificationView {
  id: string;
  status: string;
  summary: Record<string, number>;
  deliveries: { id: string; userId: string; status: string }[];
}

const AUDIENCE = 40;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

/**
 * The server reaches PostgreSQL only through PgBouncer in transaction mode, with few server
 * connections for its twenty clients (so clients share them, as behind any busy pooler), and
 * CLARION_DATABASE_PREPARED_STATEMENTS=false. Migrations go straight to PostgreSQL, as operators run them.
 */
describe('the notification path behind PgBouncer (transaction mode)', {
  skip: pgbouncerBin() ? false : NO_PGBOUNCER,
}, () => {
  let bouncer: OwnPgBouncer;
  let h: Harness;
  let app: TestApp;
  before(async () => {
    bouncer = await OwnPgBouncer.start({ poolSize: 4 });
    h = await startHarness({
      label: 'bouncer',
      databaseVia: (url) => bouncer.urlFor(url),
      beforeStart: (db) => runMigrations(db.url),
      env: {
        CLARION_MIGRATE_ON_START: 'false',
        CLARION_DATABASE_PREPARED_STATEMENTS: 'false',
        CLARION_SCHEDULE_CHECK_INTERVAL_MS: '500',
      },
    });
    app = await h.createApp();
    await seedTopicAudience(h.db.url, {
      appId: app.id,
      topic: 'news',
      users: AUDIENCE,
      prefix: 'b-',
      webhookBase: `${h.sandbox.url}/webhook/`,
    });
  });
  after(async () => {
    await h?.close();
    await bouncer?.stop();
  });

  const view = async (id: string) => json<NotificationView>(await app.call(`/v1/notifications/${id}`));
  const post = async (body: Record<string, unknown>) => {
    const res = await app.call('/v1/notifications', { body });
    assert.equal(res.status, 202, await res.clone().text());
    return json<{ id: string; status: string }>(res);
  };
  const allSent = (id: string, n: number) =>
    waitFor(
      `${n} deliveries sent`,
      async () => {
        const v = await view(id);
        return v.deliveries.length === n && v.deliveries.every((d) => d.status === 'sent') ? v : undefined;
      },
      { timeoutMs: 60_000 },
    );
  const received = (id: string) =>
    h.sandbox.recorder
      .list({ provider: 'webhook', outcome: 'accepted' })
      .filter((r) => (r.payload as { notificationId?: string }).notificationId === id);

  test('one notification to one user is sent', async () => {
    const { id } = await post({ to: { userId: 'b-1' }, content: { webhook: { json: { hello: 1 } } } });
    await allSent(id, 1);
    assert.equal(received(id).length, 1);
  });

  test('a topic fan-out reaches every subscriber once', async () => {
    const { id } = await post({ to: { topic: 'news' }, content: { webhook: { json: { news: true } } } });
    const done = await allSent(id, AUDIENCE);
    assert.equal(done.summary.sent, AUDIENCE);
    await waitFor('every copy received', () => received(id).length === AUDIENCE);
    assert.equal(new Set(received(id).map((r) => r.to)).size, AUDIENCE, 'one copy each');
  });

  test('a scheduled notification waits for its time, then is sent', async () => {
    const sendAt = inSeconds(2);
    const { id, status } = await post({
      to: { userIds: ['b-2', 'b-3'] },
      sendAt,
      content: { webhook: { json: { later: true } } },
    });
    assert.equal(status, 'scheduled');
    await allSent(id, 2);
    for (const r of received(id)) assert.ok(Date.parse(r.receivedAt) >= Date.parse(sendAt) - 100);
    await waitFor('the scheduler marked it accepted', async () => (await view(id)).status === 'accepted');
  });

  test('a canceled scheduled notification is `canceled` and never sent', async () => {
    const { id } = await post({
      to: { userIds: ['b-4', 'b-5'] },
      sendAt: inSeconds(60),
      content: { webhook: { json: { never: true } } },
    });
    await waitFor('queued', async () => (await view(id)).deliveries.every((d) => d.status === 'queued'));
    const res = await app.call(`/v1/notifications/${id}/cancel`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const v = await view(id);
    assert.equal(v.status, 'canceled');
    assert.deepEqual(
      v.deliveries.map((d) => d.status),
      ['canceled', 'canceled'],
    );
    assert.equal(received(id).length, 0);
  });

  test('retention holds its lock in a transaction (the pooler keeps that server connection for it), runs, and leaves no lock', async () => {
    const retention = new Retention(
      h.app!.get(DataSource),
      loadEnv({ ...h.childEnv(), CLARION_RETENTION_DAYS: '30' }),
    );
    // A row lock held straight on PostgreSQL stops the prune at its first DELETE (notifications:
    // deliveries go as whole day partitions first), with its lock taken.
    const blocker = new Client({ connectionString: h.db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(
      `SELECT id FROM notifications WHERE status <> 'scheduled' ORDER BY id LIMIT 1 FOR UPDATE`,
    );
    const inAYear = new Date(Date.now() + 365 * 86_400_000); // every delivery so far is past retention
    const running = retention.prune(inAYear, 30, 1000);
    try {
      await waitFor('the first DELETE waits for the row lock', async () => {
        const waiting = await sql(
          h.db.url,
          `SELECT 1 FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM notifications%'`,
        );
        return waiting.length > 0;
      });
      const holders = await sql<{ state: string }>(
        h.db.url,
        `SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.objid = 7400007 AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      // Outside a transaction the pooler would hand that server connection to any client: another
      // process's try-lock there would succeed (locks are re-entrant), and the unlock could land elsewhere.
      assert.deepEqual(holders, [{ state: 'idle in transaction' }]);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    const result = await running;
    assert.ok(result && result.deliveries > 0, 'it ran once the row was free');
    assert.notEqual(await retention.prune(inAYear, 30, 1000), null, 'and runs again');
    const locks = await sql(
      h.db.url,
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    assert.deepEqual(locks, []);
  });

  test('migrations pass through the bouncer too (each is one transaction), and a second run applies nothing', async () => {
    const fresh = await createTestDatabase('bouncer_migrate');
    try {
      assert.ok((await runMigrations(bouncer.urlFor(fresh.url))).length > 0);
      assert.deepEqual(await runMigrations(bouncer.urlFor(fresh.url)), []);
    } finally {
      await fresh.drop();
    }
  });
});
