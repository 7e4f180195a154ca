import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fcmFake, sendgridFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  id: string;
  plugin: string;
  status: string;
  providerMessageId: string | null;
}

/**
 * A provider id is written to `provider_messages` only for plugins that take callbacks (the lookup
 * is theirs alone): through the whole server, a push via FCM keeps its id on the delivery with no
 * lookup row, an e-mail via SendGrid (which has callbacks) gets one.
 */
describe('provider ids: a lookup row only where callbacks can ask for it', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'pmlookup',
      fakes: [fcmFake(), sendgridFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-fcm,@clarion/plugin-sendgrid' },
    });
    app = await h.createApp();
    assert.equal(
      (await app.call('/v1/users/kim', { method: 'PUT', body: { email: 'kim@example.com' } })).status,
      201,
    );
    const device = await app.call('/v1/users/kim/devices', {
      body: { platform: 'android', token: 'android-token-'.padEnd(40, 'k') },
    });
    assert.equal(device.status, 201, await device.text());
  });
  after(() => h.close());

  test('the FCM delivery has its provider id and no lookup row; the SendGrid one has both', async () => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'kim' },
        content: { push: { title: 'Hi', body: 'Shipped' }, email: { subject: 'Hi', text: 'Shipped' } },
      },
    });
    const accepted = await res.text();
    assert.equal(res.status, 202, accepted);
    const { id } = JSON.parse(accepted) as { id: string };
    const deliveries = await waitFor('both sent', async () => {
      const view = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return view.deliveries.length === 2 && view.deliveries.every((d) => d.status === 'sent')
        ? view.deliveries
        : undefined;
    });
    const byPlugin = new Map(deliveries.map((d) => [d.plugin, d]));
    assert.match(byPlugin.get('fcm')?.providerMessageId ?? '', /^projects\/.+\/messages\//);
    assert.ok(byPlugin.get('sendgrid')?.providerMessageId, 'the SendGrid delivery has its X-Message-Id');

    const lookupRows = await sql<{ delivery_id: string }>(
      h.db.url,
      'SELECT delivery_id::text FROM provider_messages WHERE delivery_id = ANY($1::uuid[])',
      [deliveries.map((d) => d.id)],
    );
    assert.deepEqual(
      lookupRows.map((r) => r.delivery_id),
      [byPlugin.get('sendgrid')!.id],
    );
  });
});
