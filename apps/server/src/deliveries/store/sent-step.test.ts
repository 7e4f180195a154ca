import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { rows } from '../../database/rows';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../../testing/store-database';
import { EVENTS } from '../delivery-queries';
import { type OutcomeHistory, type OutcomeUpdate, recordOutcomes } from './record-outcomes';

/**
 * The `sent` step a delivery row keeps (`sent_event`) leaves out what the row's columns say (its
 * attempt, its plugin): the history must still show the step as the worker reported it.
 */
describe('the sent step kept in the delivery row', () => {
  let s: StoreDatabase;
  let db: DataSource;

  before(async () => {
    s = await storeDatabase('sent_step');
    db = s.db;
  });
  after(async () => {
    await s?.close();
  });

  /** A queued delivery of `plugin`, in its own notification. */
  const queuedDelivery = (plugin: string) => storeOneDelivery(s, { plugin });

  const outcome = (id: string, status: OutcomeUpdate['status'], attempt: number): OutcomeUpdate => ({
    id,
    status,
    reason: null,
    attempt,
    providerMessageId: null,
    errorCode: null,
    errorMessage: null,
  });
  const step = (
    id: string,
    status: OutcomeHistory['status'],
    attempt: number,
    detail: object,
  ): OutcomeHistory => ({
    id,
    status,
    attempt,
    detailJson: JSON.stringify(detail),
  });

  async function history(id: string) {
    const [row] = await rows<{
      events: { status: string; attempt: number | null; detail: unknown }[];
      stored: unknown;
    }>(db, `SELECT ${EVENTS}, d.sent_event AS stored FROM deliveries d WHERE d.id = $1`, [id]);
    return { sent: row!.events.find((e) => e.status === 'sent'), stored: row!.stored };
  }

  test('a send on the second attempt shows attempt 2 and the plugin, and the row stores neither', async () => {
    const id = await queuedDelivery('smtp');
    await recordOutcomes(
      db,
      [outcome(id, 'retrying', 1)],
      [step(id, 'retrying', 1, { plugin: 'smtp', code: 'timeout' })],
    );
    await recordOutcomes(
      db,
      [outcome(id, 'sent', 2)],
      [step(id, 'sent', 2, { plugin: 'smtp', status: 250 })],
    );
    const { sent, stored } = await history(id);
    assert.deepEqual(sent && { attempt: sent.attempt, detail: sent.detail }, {
      attempt: 2,
      detail: { plugin: 'smtp', status: 250 },
    });
    assert.deepEqual(stored, { detail: { status: 250 } });
  });

  test("a send by another plugin than the row's keeps its plugin", async () => {
    const id = await queuedDelivery('sendgrid');
    await recordOutcomes(
      db,
      [outcome(id, 'sent', 1)],
      [step(id, 'sent', 1, { plugin: 'smtp', status: 250 })],
    );
    const { sent } = await history(id);
    assert.deepEqual(sent?.detail, { plugin: 'smtp', status: 250 });
    assert.equal(sent?.attempt, 1);
  });

  test("a send whose attempt is not the row's attempts keeps its attempt", async () => {
    const id = await queuedDelivery('smtp');
    // A retry of attempt 3 was logged, then a late answer to attempt 2 says it was sent.
    await recordOutcomes(db, [outcome(id, 'retrying', 3)], [step(id, 'retrying', 3, { plugin: 'smtp' })]);
    await recordOutcomes(
      db,
      [outcome(id, 'sent', 2)],
      [step(id, 'sent', 2, { plugin: 'smtp', status: 250 })],
    );
    const { sent } = await history(id);
    assert.equal(sent?.attempt, 2);
  });

  test('a step stored whole (rows written before the compact form) reads the same', async () => {
    const id = await queuedDelivery('smtp');
    await recordOutcomes(
      db,
      [outcome(id, 'sent', 1)],
      [step(id, 'sent', 1, { plugin: 'smtp', status: 250 })],
    );
    await db.query(
      `UPDATE deliveries SET sent_event = '{"attempt": 1, "detail": {"plugin": "smtp", "status": 250}}' WHERE id = $1`,
      [id],
    );
    const { sent } = await history(id);
    assert.deepEqual(sent && { attempt: sent.attempt, detail: sent.detail }, {
      attempt: 1,
      detail: { plugin: 'smtp', status: 250 },
    });
  });
});
