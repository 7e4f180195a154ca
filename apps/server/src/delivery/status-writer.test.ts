import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeliveryJob } from '@clarion/plugin-sdk';
import { jobSql } from '../deliveries/store/stored-job';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { StatusWriter } from './status-writer';

interface View {
  deliveries: {
    id: string;
    status: string;
    events: { status: string; detail?: { error?: { message?: string } } }[];
  }[];
}

describe('status writer: what a provider answers is recorded, whatever its text holds', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'statuswriter' });
    app = await h.createApp();
    await app.call('/v1/users/sw', { method: 'PUT', body: { webhookUrl: `${h.sandbox.url}/webhook/sw` } });
  });
  after(() => h.close());

  /** A delivery waiting for its send time, and the job a worker would hold for it. */
  async function waitingDelivery(): Promise<{ notificationId: string; job: DeliveryJob }> {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'sw' },
        sendAt: new Date(Date.now() + 600_000).toISOString(),
        content: { webhook: { json: { hello: 'later' } } },
      },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const [row] = await sql<{ job: DeliveryJob }>(
      h.db.url,
      `SELECT ${jobSql('d')} AS job FROM deliveries d WHERE d.notification_id = $1`,
      [id],
    );
    return { notificationId: id, job: row!.job };
  }

  test('an error message holding U+0000 or an unpaired surrogate is stored with U+FFFD, and the rest of its batch is stored too', async () => {
    const failed = await waitingDelivery();
    const sent = await waitingDelivery();
    const writer = h.app!.get(StatusWriter);
    // Reported together: one batch, one statement.
    await Promise.all([
      writer.report({
        type: 'failed',
        job: failed.job,
        attempt: 1,
        at: new Date(),
        reason: 'permanent',
        error: { kind: 'permanent', message: 'provider said: bad\u0000byte \ud800', code: 'E\u00001' },
      }),
      writer.report({ type: 'sent', job: sent.job, attempt: 1, at: new Date(), providerMessageId: 'pm-1' }),
    ]);
    const [row] = await sql<{ status: string; error_message: string; error_code: string }>(
      h.db.url,
      `SELECT status, error_message, error_code FROM deliveries WHERE notification_id = $1`,
      [failed.notificationId],
    );
    assert.deepEqual(row, {
      status: 'failed',
      error_message: 'provider said: bad\uFFFDbyte \uFFFD',
      error_code: 'E\uFFFD1',
    });
    const view = await json<View>(await app.call(`/v1/notifications/${failed.notificationId}`));
    const event = view.deliveries[0]!.events.find((e) => e.status === 'failed');
    assert.equal(event?.detail?.error?.message, 'provider said: bad\uFFFDbyte \uFFFD');
    const other = await json<View>(await app.call(`/v1/notifications/${sent.notificationId}`));
    assert.equal(other.deliveries[0]!.status, 'sent');
  });

  test('a retry and the send after it, landing in one batch, are both in the history, in order; the delivery ends `sent`', async () => {
    const { notificationId, job } = await waitingDelivery();
    const writer = h.app!.get(StatusWriter);
    // Reported in the same tick: one batch, so the UPDATE keeps one outcome (`sent`) while the
    // history must still get both steps.
    await Promise.all([
      writer.report({
        type: 'retrying',
        job,
        attempt: 1,
        at: new Date(),
        error: { kind: 'retryable', message: 'receiver answered 503', code: '503' },
      }),
      writer.report({ type: 'sent', job, attempt: 2, at: new Date(), providerMessageId: 'pm-2' }),
    ]);
    const view = await json<View>(await app.call(`/v1/notifications/${notificationId}`));
    assert.equal(view.deliveries[0]!.status, 'sent');
    assert.deepEqual(
      view.deliveries[0]!.events.map((e) => e.status),
      ['pending', 'queued', 'retrying', 'sent'],
    );
  });
});
