import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { rows } from '../../database/rows';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../../testing/store-database';
import { EVENTS } from '../delivery-queries';
import { recordOutcomes } from './record-outcomes';

/**
 * Outcomes are written without locking the rows first (compare-and-set on the status read): a
 * row another writer changes while the statement waits for it must still end as if the outcome
 * had been applied after that change, counted once, from the right status.
 */
describe('recording outcomes while another writer changes the row', () => {
  let s: StoreDatabase;
  let db: DataSource;
  let other: Client;

  before(async () => {
    s = await storeDatabase('record_outcomes');
    db = s.db;
    other = new Client({ connectionString: s.url });
    await other.connect();
  });
  after(async () => {
    await other?.end();
    await s?.close();
  });

  /** A delivery in its own notification: `queued`, or `pending` when it has no job yet. */
  const queuedDelivery = (job: 'job' | 'no job' = 'job') =>
    storeOneDelivery(s, job === 'job' ? {} : { job: null });

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
    const [row] = await rows<{ status: string; events: { status: string }[]; sent: number }>(
      db,
      `SELECT d.status, ${EVENTS},
              (SELECT COALESCE(sum(n), 0)::int FROM delivery_stats WHERE app_id = d.app_id AND metric = 'sent') AS sent
         FROM deliveries d WHERE d.id = $1`,
      [id],
    );
    return {
      status: row!.status,
      events: row!.events.map((e) => e.status),
      sent: row!.sent,
    };
  }

  /**
   * Reports `sent` for delivery `id` while another transaction holds its row, having run `change`
   * on it; commits that once the outcome's statement waits for the row. Answers the delivery's state
   * and how many `sent` the stats counted meanwhile.
   */
  async function sentBehind(id: string, change: string) {
    const before = (await stateOf(id)).sent;
    await other.query('BEGIN');
    await other.query(`UPDATE deliveries SET ${change} WHERE id = $1`, [id]);
    const recording = recordOutcomes(
      db,
      [sent(id)],
      [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
    );
    await untilBlocked();
    await other.query('COMMIT');
    await recording;
    const state = await stateOf(id);
    return { status: state.status, events: state.events, sentCounted: state.sent - before };
  }

  test('a sent outcome waiting behind a failure is applied after it, from failed', async () => {
    const id = await queuedDelivery();
    // Counted once, as a move from failed (a failed message later sent counts as sent).
    assert.deepEqual(await sentBehind(id, `status = 'failed', reason = 'provider_error'`), {
      status: 'sent',
      events: ['queued', 'sent'],
      sentCounted: 1,
    });
  });

  test('a sent outcome waiting behind the enqueuer is applied from queued, its queued step logged once', async () => {
    const id = await queuedDelivery('no job'); // written pending
    assert.deepEqual(await sentBehind(id, `status = 'queued', queued_at = now()`), {
      status: 'sent',
      events: ['queued', 'sent'],
      sentCounted: 1,
    });
  });

  test('a sent outcome waiting behind a cancel is refused, and counts nothing', async () => {
    const id = await queuedDelivery();
    assert.deepEqual(await sentBehind(id, `status = 'canceled', reason = 'canceled'`), {
      status: 'canceled',
      events: ['queued'],
      sentCounted: 0,
    });
  });
});
