import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendgridFake, smtpFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface Delivery {
  plugin: string;
  status: string;
  events: { status: string; detail: Record<string, unknown> | null }[];
}

describe('e-mail fallback: sendgrid down → the SMTP server, headers and text part intact', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({
      label: 'mailfb',
      fakes: [sendgridFake(), smtpFake()],
      env: {
        CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-sendgrid,@clarion/plugin-smtp',
        CLARION_FALLBACK_AFTER_ATTEMPTS: '1',
      },
    });
    app = await h.createApp({ providers: { email: ['sendgrid', 'smtp'] } });
    assert.equal(
      (await app.call('/v1/users/ivy', { method: 'PUT', body: { email: 'ivy@example.com' } })).status,
      201,
    );
  });
  after(() => h.close());

  test('a 503 from SendGrid hands the e-mail to SMTP, which delivers it with List-Unsubscribe and a text part', async () => {
    h.sandbox.behaviors.add({ provider: 'sendgrid', to: 'ivy@example.com', fail: '503' });
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userId: 'ivy' },
        category: 'news',
        content: { email: { subject: 'Weekly', html: '<h1>News</h1><p>All good</p>' } },
      },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    const d = await waitFor('sent', async () => {
      const view = await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`));
      return view.deliveries[0]?.status === 'sent' ? view.deliveries[0] : undefined;
    });
    assert.equal(d.plugin, 'smtp');
    assert.equal(d.events.find((e) => e.status === 'rerouted')?.detail?.to, 'smtp');
    const [mail] = await h.sandbox.recorder.waitFor(1, {
      provider: 'smtp',
      to: 'ivy@example.com',
      outcome: 'accepted',
    });
    const payload = mail!.payload as {
      headers: Record<string, string>;
      text: string | null;
      subject: string;
    };
    assert.equal(payload.subject, 'Weekly');
    assert.match(payload.headers['list-unsubscribe'] ?? '', /\/v1\/unsubscribe\?token=/);
    assert.equal(payload.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
    assert.match(payload.text ?? '', /All good/);
    assert.equal(h.sandbox.recorder.count({ provider: 'sendgrid', outcome: 'accepted' }), 0);
  });
});
