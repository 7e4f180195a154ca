import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { newId } from '../../common/ids';
import { createDataSource, runMigrations } from '../../database/data-source';
import { rows } from '../../database/rows';
import { EVENTS } from '../delivery-queries';
import { insertNotifications } from './insert-deliveries';
import { recordOutcomes } from './record-outcomes';

/**
 * Outcomes are written without locking the rows first (compare-and-set on the status read): a
 * row another writer changes while the statement waits for it must still end as if the outcome
 * had been applied after that change, counted once, from the right status.
 */
describe('recording outcomes while another writer changes the row', () => {
  let tdb: TestDatabase;
  let db: DataSource;
  let other: Client;
  let appId: string;

  before(async () => {
    tdb = await createTestDatabase('record_outcomes');
    await runMigrations(tdb.url);
    db = createDataSource(tdb.url, 2);
    await db.initialize();
    other = new Client({ connectionString: tdb.url });
    await other.connect();
    appId = newId();
    await db.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'record-outcomes', 'x')`, [
      appId,
    ]);
  });
  after(async () => {
    await other?.end();
    await db?.destroy();
    await tdb?.drop();
  });

  async function queuedDelivery(jobJson: string | null = '{}'): Promise<string> {
    const id = newId();
    const notificationId = newId();
    await insertNotifications(
      db,
      [
        {
          id: notificationId,
          appId,
          eventId: null,
          status: 'accepted',
          category: null,
          priority: 'normal',
          requestJson: '{}',
          sendAt: null,
          expiresAt: null,
          recipients: 1,
          templateKey: null,
          templateVersion: null,
        },
      ],
      [
        {
          notificationId,
          appId,
          jobJson,
          linksJson: null,
          plan: {
            id,
            userId: null,
            contactId: null,
            channel: 'email',
            plugin: 'smtp',
            status: 'pending',
            reason: null,
            job: null,
          },
        },
      ],
    );
    return id;
  }

  /** Waits until a statement of the test's pool waits for a row lock (the other writer's). */
  async function untilBlocked(): Promise<void> {
    for (let i = 0; i < 500; i += 1) {
      const { rows: found } = await other.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (found[0]!.n > 0) return;
      await sleep(10);
    }
    throw new Error('the outcome statement never waited for the row');
  }

  const sent = (id: string) => ({
    id,
    status: 'sent' as const,
    reason: null,
    attempt: 1,
    providerMessageId: 'pm-1',
    errorCode: null,
    errorMessage: null,
  });

  async function stateOf(id: string) {
    const [row] = await rows<{ status: string; events: { status: string }[]; sent: number; failed: number }>(
      db,
      `SELECT d.status, ${EVENTS},
              (SELECT COALESCE(sum(n), 0)::int FROM delivery_stats WHERE app_id = d.app_id AND metric = 'sent') AS sent,
              (SELECT COALESCE(sum(n), 0)::int FROM delivery_stats WHERE app_id = d.app_id AND metric = 'failed') AS failed
         FROM deliveries d WHERE d.id = $1`,
      [id],
    );
    return {
      status: row!.status,
      events: row!.events.map((e) => e.status),
      sent: row!.sent,
      failed: row!.failed,
    };
  }

  test('a sent outcome waiting behind a failure is applied after it, from failed', async () => {
    const id = await queuedDelivery();
    await other.query('BEGIN');
    await other.query(`UPDATE deliveries SET status = 'failed', reason = 'provider_error' WHERE id = $1`, [
      id,
    ]);
    const recording = recordOutcomes(
      db,
      [sent(id)],
      [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
    );
    await untilBlocked();
    await other.query('COMMIT');
    await recording;
    const state = await stateOf(id);
    assert.equal(state.status, 'sent');
    assert.deepEqual(state.events, ['queued', 'sent']);
    // Counted once, as a move from failed (a failed message later sent counts as sent).
    assert.equal(state.sent, 1);
  });

  test('a sent outcome waiting behind the enqueuer is applied from queued, its queued step logged once', async () => {
    const id = await queuedDelivery(null); // no job yet: written pending
    await other.query('BEGIN');
    await other.query(`UPDATE deliveries SET status = 'queued', queued_at = now() WHERE id = $1`, [id]);
    const recording = recordOutcomes(
      db,
      [sent(id)],
      [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
    );
    await untilBlocked();
    await other.query('COMMIT');
    await recording;
    const state = await stateOf(id);
    assert.equal(state.status, 'sent');
    assert.deepEqual(state.events, ['queued', 'sent']);
  });

  test('a sent outcome waiting behind a cancel is refused, and counts nothing', async () => {
    const id = await queuedDelivery();
    await other.query('BEGIN');
    await other.query(`UPDATE deliveries SET status = 'canceled', reason = 'canceled' WHERE id = $1`, [id]);
    const before = (await stateOf(id)).sent;
    const recording = recordOutcomes(
      db,
      [sent(id)],
      [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
    );
    await untilBlocked();
    await other.query('COMMIT');
    await recording;
    const state = await stateOf(id);
    assert.equal(state.status, 'canceled');
    assert.deepEqual(state.events, ['queued']);
    assert.equal(state.sent, before);
  });
});
