import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { twilioFake, vonageFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  status: string;
  reason: string | null;
  plugin: string;
  errorCode: string | null;
  events: { status: string }[];
}

describe('SMS STOP (Twilio 21610): the user is opted out of SMS, the number stays valid', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'smsstop',
      fakes: [twilioFake(), vonageFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-twilio,@clarion/plugin-vonage' },
    });
    app = await h.createApp({ providers: { sms: ['twilio', 'vonage'] } });
  });
  after(() => h.close());

  test('21610 fails the delivery without retry or fallback and records an SMS opt-out from sms_stop', async () => {
    const phone = '+14155550301';
    assert.equal((await app.call('/v1/users/erin', { method: 'PUT', body: { phone } })).status, 201);
    h.sandbox.behaviors.add({ provider: 'twilio', to: phone, fail: '21610' });
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'erin' }, content: { sms: { text: 'Sale!' } }, category: 'marketing' },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const d = await waitFor('failed', async () => {
      const view = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return view.deliveries[0]?.status === 'failed' ? view.deliveries[0] : undefined;
    });
    assert.equal(d.reason, 'invalid_address');
    assert.equal(d.errorCode, '21610');
    assert.equal(d.plugin, 'twilio');
    assert.deepEqual(
      d.events.map((e) => e.status),
      ['pending', 'queued', 'failed'],
    );
    assert.equal(
      h.sandbox.recorder.count({ provider: 'vonage' }),
      0,
      'a STOP is not a reason to try another provider',
    );

    const prefs = await sql<{ channel: string; category: string; enabled: boolean; source: string }>(
      h.db.url,
      `SELECT p.channel, p.category, p.enabled, p.source FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.external_id = 'erin'`,
    );
    assert.deepEqual(prefs, [{ channel: 'sms', category: '*', enabled: false, source: 'sms_stop' }]);
    const [contact] = await sql<{ disabled_at: Date | null }>(
      h.db.url,
      'SELECT disabled_at FROM contacts WHERE address = $1',
      [phone],
    );
    assert.equal(contact?.disabled_at, null, 'the number itself is valid and stays enabled');
  });

  test('the next SMS to that user changes nothing more: one opt-out row', async () => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: 'erin' }, content: { sms: { text: 'Again' } } },
    });
    const { id } = await json<{ id: string }>(res);
    // Failed again at Twilio, or (once preferences filter at planning) suppressed before it.
    await waitFor('failed or suppressed', async () => {
      const view = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return ['failed', 'suppressed'].includes(view.deliveries[0]?.status ?? '');
    });
    const prefs = await sql(
      h.db.url,
      `SELECT 1 FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.external_id = 'erin'`,
    );
    assert.equal(prefs.length, 1);
  });
});
