import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DataSource } from 'typeorm';
import { rows } from '../../database/rows';
import { type StoreDatabase, storeDatabase, storeOneDelivery } from '../../testing/store-database';
import { cancelUnsent } from './cancel-unsent';
import { markQueued } from './mark-queued';
import { deliveriesOfProviderIds } from './provider-messages';
import { type OutcomeStatus, type OutcomeUpdate, recordOutcomes } from './record-outcomes';
import { recordTrackedRound } from './record-tracked';
import { redrive } from './redrive';
import { reroute } from './reroute';

/**
 * `unsettled_deliveries` stands in for the partial indexes on `deliveries.status` (so a status
 * update is HOT): each writer keeps it equal to the deliveries that are pending, queued, failed or
 * expired, and a provider's message id finds its delivery through `provider_messages`.
 */
describe('the unsettled deliveries and provider ids, kept by every writer', () => {
  let s: StoreDatabase;
  let db: DataSource;

  before(async () => {
    s = await storeDatabase('unsettled');
    db = s.db;
  });
  after(async () => {
    await s?.close();
  });

  /** The delivery's status, and its unsettled row as [status, has app] or null. */
  async function stateOf(id: string): Promise<{ status: string; unsettled: [string, boolean] | null }> {
    const [row] = await rows<{ status: string; u_status: string | null; u_app: boolean }>(
      db,
      `SELECT d.status, u.status AS u_status, u.app_id = d.app_id AS u_app
         FROM deliveries d LEFT JOIN unsettled_deliveries u ON u.id = d.id WHERE d.id = $1`,
      [id],
    );
    return {
      status: row!.status,
      unsettled: row!.u_status === null ? null : [row!.u_status, row!.u_app === true],
    };
  }

  const update = (
    id: string,
    status: OutcomeStatus,
    providerMessageId: string | null = null,
  ): OutcomeUpdate => ({
    id,
    status,
    reason: status === 'failed' ? 'provider_error' : null,
    attempt: 1,
    providerMessageId,
    errorCode: null,
    errorMessage: null,
  });
  const outcome = (id: string, status: OutcomeStatus, providerMessageId: string | null = null) =>
    recordOutcomes(
      db,
      [update(id, status, providerMessageId)],
      [{ id, status, attempt: 1, detailJson: '{}' }],
    );

  test('the request path writes queued and pending deliveries unsettled, a suppressed one not', async () => {
    const queued = await storeOneDelivery(s);
    const pending = await storeOneDelivery(s, { job: null });
    const suppressed = await storeOneDelivery(s, { status: 'suppressed', reason: 'opted_out', job: null });
    assert.deepEqual(await stateOf(queued), { status: 'queued', unsettled: ['queued', false] });
    assert.deepEqual(await stateOf(pending), { status: 'pending', unsettled: ['pending', false] });
    assert.deepEqual(await stateOf(suppressed), { status: 'suppressed', unsettled: null });
  });

  test('a delivery through retry, failure, redrive, enqueue, sending and a late provider failure', async () => {
    const id = await storeOneDelivery(s);
    await outcome(id, 'retrying');
    assert.deepEqual(await stateOf(id), { status: 'queued', unsettled: ['queued', false] });
    await outcome(id, 'failed');
    // Failed: the redrive list finds it by app.
    assert.deepEqual(await stateOf(id), { status: 'failed', unsettled: ['failed', true] });
    await redrive(db, [
      { id, status: 'pending', reason: null, plugin: null, jobJson: '{}', heldUntil: null, linksJson: null },
    ]);
    assert.deepEqual(await stateOf(id), { status: 'pending', unsettled: ['pending', false] });
    await markQueued(db, [id]);
    assert.deepEqual(await stateOf(id), { status: 'queued', unsettled: ['queued', false] });
    await outcome(id, 'sent', 'pm-late');
    assert.deepEqual(await stateOf(id), { status: 'sent', unsettled: null });
    // The provider's callback finds it by its id, and fails it: unsettled again, redrivable.
    assert.deepEqual(await deliveriesOfProviderIds(db, ['pm-late']), [{ id, pmid: 'pm-late' }]);
    await db.transaction((tx) =>
      recordTrackedRound(tx, [
        {
          id,
          status: 'failed',
          reason: 'bounced',
          errorCode: null,
          errorMessage: null,
          providerMessageId: null,
          detail: () => '{}',
        },
      ]),
    );
    assert.deepEqual(await stateOf(id), { status: 'failed', unsettled: ['failed', true] });
  });

  test('a reroute makes a queued delivery pending; a cancel settles it', async () => {
    const id = await storeOneDelivery(s, { plugin: 'smtp' });
    await reroute(db, [
      { id, fromPlugin: 'smtp', toPlugin: 'sendgrid', jobJson: '{}', attempt: 1, detailJson: '{}' },
    ]);
    assert.deepEqual(await stateOf(id), { status: 'pending', unsettled: ['pending', false] });
    const [row] = await rows<{ nid: string }>(
      db,
      'SELECT notification_id AS nid FROM deliveries WHERE id = $1',
      [id],
    );
    await cancelUnsent(db, row!.nid, [id]);
    assert.deepEqual(await stateOf(id), { status: 'canceled', unsettled: null });
  });

  test('a redriven delivery forgets its provider id: a callback for the old message finds nothing', async () => {
    const id = await storeOneDelivery(s);
    await outcome(id, 'failed', 'pm-old');
    assert.deepEqual(await deliveriesOfProviderIds(db, ['pm-old']), [{ id, pmid: 'pm-old' }]);
    await redrive(db, [
      { id, status: 'pending', reason: null, plugin: null, jobJson: '{}', heldUntil: null, linksJson: null },
    ]);
    assert.deepEqual(await deliveriesOfProviderIds(db, ['pm-old']), []);
    await markQueued(db, [id]);
    await outcome(id, 'sent', 'pm-new');
    assert.deepEqual(await deliveriesOfProviderIds(db, ['pm-old', 'pm-new']), [{ id, pmid: 'pm-new' }]);
  });

  test('a plugin without callbacks keeps its provider id on the delivery but writes no lookup row', async () => {
    const push = await storeOneDelivery(s, { channel: 'push', plugin: 'fcm' });
    const mail = await storeOneDelivery(s);
    await recordOutcomes(db, [update(push, 'sent', 'pm-push'), update(mail, 'sent', 'pm-mail')], [], ['fcm']);
    assert.deepEqual(await deliveriesOfProviderIds(db, ['pm-push', 'pm-mail']), [
      { id: mail, pmid: 'pm-mail' },
    ]);
    const lookupRows = await rows<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM provider_messages WHERE delivery_id = ANY($1::uuid[])`,
      [[push, mail]],
    );
    assert.equal(lookupRows[0]!.n, 1);
    const kept = await rows<{ id: string; provider_message_id: string }>(
      db,
      `SELECT id::text, provider_message_id FROM deliveries WHERE id = ANY($1::uuid[]) ORDER BY provider_message_id`,
      [[push, mail]],
    );
    assert.deepEqual(kept, [
      { id: mail, provider_message_id: 'pm-mail' },
      { id: push, provider_message_id: 'pm-push' },
    ]);
  });

  test('the sent update is HOT: the row stays on its page and no index gets an entry', async () => {
    const id = await storeOneDelivery(s);
    const runner = db.createQueryRunner();
    // This backend's own counters, read before and after inside one transaction (the statistics
    // views are flushed later; these include the backend's not yet flushed counts, hence the delta).
    const counters = async () =>
      (
        (await runner.query(
          `SELECT pg_stat_get_xact_tuples_updated(tableoid)::int AS updated,
                pg_stat_get_xact_tuples_hot_updated(tableoid)::int AS hot
           FROM deliveries WHERE id = $1`,
          [id],
        )) as { updated: number; hot: number }[]
      )[0]!;
    try {
      await runner.startTransaction();
      const before = await counters();
      await recordOutcomes(
        runner,
        [
          {
            id,
            status: 'sent',
            reason: null,
            attempt: 1,
            providerMessageId: 'pm-hot',
            errorCode: null,
            errorMessage: null,
          },
        ],
        [{ id, status: 'sent', attempt: 1, detailJson: '{"plugin":"smtp"}' }],
      );
      const done = await counters();
      await runner.commitTransaction();
      assert.deepEqual(
        { updated: done.updated - before.updated, hot: done.hot - before.hot },
        { updated: 1, hot: 1 },
      );
      assert.deepEqual(await stateOf(id), { status: 'sent', unsettled: null });
    } finally {
      await runner.release();
    }
  });

  test('every statement that writes deliveries keeps the table: each writer file uses unsettledCtes', () => {
    // apps/server/src, from dist/deliveries/store (compiled) or src/deliveries/store.
    const src = join(__dirname, '..', '..', '..', 'src');
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? walk(join(dir, e.name))
          : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
            ? [join(dir, e.name)]
            : [],
      );
    })(src).filter((f) => !f.includes('/migrations/'));
    const writers = files.filter((f) =>
      /\b(UPDATE deliveries|INSERT INTO deliveries)\b/.test(readFileSync(f, 'utf8')),
    );
    assert.ok(writers.length >= 7, `found the writers: ${writers.length}`);
    const without = writers.filter((f) => !readFileSync(f, 'utf8').includes('unsettledCtes('));
    assert.deepEqual(
      without.map((f) => relative(src, f)),
      [],
      'a statement that inserts deliveries or moves their status must keep unsettled_deliveries (store/unsettled.ts)',
    );
  });
});
