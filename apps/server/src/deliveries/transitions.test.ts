import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@clarion/testkit';
import type { DataSource } from 'typeorm';
import { newId } from '../common/ids';
import { createDataSource, runMigrations } from '../database/data-source';
import { rows } from '../database/rows';
import { acceptedNotification } from '../testing/store-database';
import { EVENTS } from './delivery-queries';
import { DELIVERY_STATUSES, type DeliveryStatus, type InitialStatus } from './delivery-status';
import {
  cancelUnsent,
  insertDeliveries,
  insertNotifications,
  markQueued,
  type OutcomeStatus,
  recordOutcomes,
  recordTrackedRound,
  redrive,
  reroute,
} from './delivery-store';
import { historyOf } from './event-view';
import { ENTRIES, mayMove, TRANSITIONS, WRITERS, type Writer } from './transitions';

/** One attempt: a delivery in status `from`, asked by `writer` to move to `to`. */
interface Case {
  writer: Writer;
  from: DeliveryStatus;
  to: DeliveryStatus;
  id: string;
  notificationId: string;
}

/**
 * What each writer can ask for, and the history step it logs when the move is applied. A worker
 * keeps a delivery `queued` by reporting `retrying`.
 */
const ASKS: { readonly [W in Writer]: readonly DeliveryStatus[] } = {
  enqueue: ['queued'],
  outcome: ['queued', 'sent', 'failed', 'expired', 'canceled'],
  tracking: ['sent', 'delivered', 'opened', 'clicked', 'failed', 'expired'],
  cancel: ['canceled'],
  reroute: ['pending'],
  redrive: ['pending', 'suppressed'],
};
const STEP: { readonly [W in Writer]: (to: DeliveryStatus) => string } = {
  enqueue: () => 'queued',
  outcome: (to) => (to === 'queued' ? 'retrying' : to),
  tracking: (to) => to,
  cancel: () => 'canceled',
  reroute: () => 'rerouted',
  redrive: () => 'redriven',
};

/** Asks the store, the way `writer` does, to move the case's delivery. */
async function attempt(db: DataSource, c: Case): Promise<void> {
  switch (c.writer) {
    case 'enqueue':
      return markQueued(db, [c.id]);
    case 'outcome': {
      const status: OutcomeStatus = c.to === 'queued' ? 'retrying' : (c.to as OutcomeStatus);
      return recordOutcomes(
        db,
        [
          {
            id: c.id,
            status,
            reason: null,
            attempt: 1,
            providerMessageId: null,
            errorCode: null,
            errorMessage: null,
          },
        ],
        [{ id: c.id, status, attempt: 1, detailJson: '{}' }],
      );
    }
    case 'tracking':
      await db.transaction((tx) =>
        recordTrackedRound(tx, [
          {
            id: c.id,
            status: c.to,
            reason: c.to === 'failed' ? 'permanent' : null,
            errorCode: null,
            errorMessage: null,
            providerMessageId: null,
            detail: () => '{}',
          },
        ]),
      );
      return;
    case 'cancel':
      await db.transaction((tx) => cancelUnsent(tx, c.notificationId, [c.id]));
      return;
    case 'reroute':
      await reroute(db, [
        { id: c.id, fromPlugin: 'webhook', toPlugin: 'webhook', jobJson: '{}', attempt: 1, detailJson: '{}' },
      ]);
      return;
    case 'redrive':
      await redrive(db, [
        {
          id: c.id,
          status: c.to as InitialStatus,
          reason: c.to === 'suppressed' ? 'opted_out' : null,
          plugin: 'webhook',
          jobJson: '{}',
          heldUntil: null,
          linksJson: null,
        },
      ]);
      return;
  }
}

interface Snapshot {
  row: Record<string, unknown>;
  events: string[];
}

async function snapshot(db: DataSource, id: string): Promise<Snapshot> {
  const [row] = await rows<{ row: Record<string, unknown> }>(
    db,
    'SELECT to_jsonb(d) AS row FROM deliveries d WHERE id = $1',
    [id],
  );
  // The history as the API shows it: its rows and the steps the delivery row holds (queued_at, sent_event).
  const [history] = await rows<{ events: { status: string }[] }>(
    db,
    `SELECT ${EVENTS} FROM deliveries d WHERE d.id = $1`,
    [id],
  );
  return { row: row!.row, events: history!.events.map((e) => e.status) };
}

describe('the transition table, walked against PostgreSQL', () => {
  let tdb: TestDatabase;
  let db: DataSource;
  const cases: Case[] = WRITERS.flatMap((writer) =>
    DELIVERY_STATUSES.flatMap((from) =>
      ASKS[writer].map((to) => ({ writer, from, to, id: newId(), notificationId: newId() })),
    ),
  );

  before(async () => {
    tdb = await createTestDatabase('transitions');
    await runMigrations(tdb.url);
    db = createDataSource(tdb.url, 2);
    await db.initialize();
    const appId = newId();
    await db.query(`INSERT INTO apps (id, name, user_token_secret) VALUES ($1, 'transitions', 'x')`, [appId]);
    // One notification per case (a cancel moves every delivery of its notification), written by the store.
    await insertNotifications(
      db,
      cases.map((c) => acceptedNotification(c.notificationId, appId, 1)),
      cases.map((c) => ({
        notificationId: c.notificationId,
        appId,
        jobJson: '{}',
        linksJson: null,
        plan: {
          id: c.id,
          userId: null,
          contactId: null,
          channel: 'webhook',
          plugin: 'webhook',
          status: 'pending',
          reason: null,
          job: null,
        },
      })),
    );
    // Each delivery starts in its case's `from`, with no provider id and no `sent_at`: the table alone decides.
    await db.query(
      `UPDATE deliveries d SET status = v.status FROM unnest($1::uuid[], $2::text[]) AS v(id, status) WHERE d.id = v.id`,
      [cases.map((c) => c.id), cases.map((c) => c.from)],
    );
  });
  after(async () => {
    await db?.destroy();
    await tdb?.drop();
  });

  test('every writer, every status, every target it can ask for: legal moves are applied and logged, every other one leaves the row and its history untouched', async () => {
    const wrong: string[] = [];
    for (const c of cases) {
      const before = await snapshot(db, c.id);
      await attempt(db, c);
      const now = await snapshot(db, c.id);
      const label = `${c.writer}: ${c.from} → ${c.to}`;
      if (mayMove(c.writer, c.from, c.to)) {
        if (now.row.status !== c.to) wrong.push(`${label} was refused (status ${String(now.row.status)})`);
        if (!now.events.slice(before.events.length).includes(STEP[c.writer](c.to)))
          wrong.push(`${label}: no ${STEP[c.writer](c.to)} in the history (${now.events.join(', ')})`);
      } else {
        if (JSON.stringify(now) !== JSON.stringify(before))
          wrong.push(`${label} changed the row or its history`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(
      cases.filter((c) => mayMove(c.writer, c.from, c.to)).length > 40 &&
        cases.filter((c) => !mayMove(c.writer, c.from, c.to)).length > 80,
      'both kinds were tried',
    );
  });

  test('a delivery is first stored as ENTRIES says: the request path writes it queued, a fan-out chunk or a step pending, either suppressed', async () => {
    const [app] = await rows<{ id: string }>(db, 'SELECT id FROM apps LIMIT 1');
    const appId = app!.id;
    const plan = (id: string, status: InitialStatus, job: boolean) => ({
      notificationId: '',
      appId,
      jobJson: job ? '{}' : null,
      linksJson: null,
      plan: {
        id,
        userId: null,
        contactId: null,
        channel: 'webhook',
        plugin: 'webhook',
        status,
        reason: status === 'suppressed' ? 'opted_out' : null,
        job: null,
      },
    });
    const accepted = newId();
    const [a, as] = [newId(), newId()];
    await insertNotifications(
      db,
      [acceptedNotification(accepted, appId, 2)],
      [a, as].map((id, i) => ({
        ...plan(id, i === 0 ? 'pending' : 'suppressed', i === 0),
        notificationId: accepted,
      })),
    );
    const [f, fs] = [newId(), newId()];
    await insertDeliveries(db, [
      { ...plan(f, 'pending', true), notificationId: accepted },
      { ...plan(fs, 'suppressed', false), notificationId: accepted },
    ]);
    const stored = await rows<{ id: string; status: string; queued: boolean }>(
      db,
      'SELECT id::text, status, queued_at IS NOT NULL AS queued FROM deliveries WHERE id = ANY($1::uuid[])',
      [[a, as, f, fs]],
    );
    const by = new Map(stored.map((r) => [r.id, r]));
    assert.deepEqual(
      [a, as, f, fs].map((id) => [by.get(id)?.status, by.get(id)?.queued]),
      [
        ['queued', true],
        ['suppressed', false],
        ['pending', false],
        ['suppressed', false],
      ],
    );
    assert.deepEqual(ENTRIES, {
      queued: ['accept'],
      pending: ['fan-out', 'step'],
      suppressed: ['accept', 'fan-out', 'step'],
    });
    const { events } = await snapshot(db, a);
    assert.deepEqual(events, ['queued'], 'the step its row holds (queued_at): no delivery_events row');
    assert.deepEqual(
      historyOf(
        'queued',
        new Date(),
        events.map((status) => ({ status, at: new Date(), attempt: null, detail: null })),
      ).map((e) => e.status),
      ['pending', 'queued'],
      'the API still shows both steps (pending at created_at)',
    );
  });

  test('the table lists only moves its writers can ask for (no entry the walk above skipped)', () => {
    for (const from of DELIVERY_STATUSES)
      for (const [to, writers] of Object.entries(TRANSITIONS[from]))
        for (const w of writers ?? [])
          assert.ok(ASKS[w].includes(to as DeliveryStatus), `${w}: ${from} → ${to} cannot be asked for`);
  });

  test('beyond the table, a worker’s `sent` is refused after a provider already failed the message, and after a first `sent`', async () => {
    const [bounced, sentOnce] = cases.filter((c) => c.writer === 'enqueue').map((c) => c.id);
    await db.query(
      `UPDATE deliveries SET status = 'failed', provider_message_id = 'pm-1', sent_at = NULL WHERE id = $1`,
      [bounced],
    );
    await db.query(`UPDATE deliveries SET status = 'failed', sent_at = now() WHERE id = $1`, [sentOnce]);
    for (const id of [bounced!, sentOnce!]) {
      const before = await snapshot(db, id);
      await recordOutcomes(
        db,
        [
          {
            id,
            status: 'sent',
            reason: null,
            attempt: 2,
            providerMessageId: 'pm-2',
            errorCode: null,
            errorMessage: null,
          },
        ],
        [{ id, status: 'sent', attempt: 2, detailJson: '{}' }],
      );
      assert.deepEqual(await snapshot(db, id), before);
    }
  });
});
