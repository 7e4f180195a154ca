import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Harness, json, startHarness } from '../../testing/harness';

describe('provider callbacks without their secret configured', () => {
  let h: Harness;
  before(async () => {
    // The providers' plugins are loaded (their callbacks are theirs) but hold no callback secret.
    h = await startHarness({
      label: 'nocallbacks',
      role: 'api',
      env: {
        CLARION_PLUGINS:
          '@clarion/plugin-webhook,@clarion/plugin-twilio,@clarion/plugin-sendgrid,@clarion/plugin-mailchimp,@clarion/plugin-vonage',
      },
    });
  });
  after(() => h.close());

  test('every callback endpoint answers 401 callback_not_configured rather than accepting unverifiable posts', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const calls: [string, RequestInit][] = [
      [
        '/v1/callbacks/twilio/status',
        {
          method: 'POST',
          headers: { ...form, 'x-twilio-signature': 'x' },
          body: 'MessageSid=SM1&MessageStatus=delivered',
        },
      ],
      [
        '/v1/callbacks/twilio/inbound',
        { method: 'POST', headers: form, body: 'From=%2B15550000000&Body=STOP' },
      ],
      [
        '/v1/callbacks/sendgrid',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' },
      ],
      ['/v1/callbacks/mailchimp', { method: 'POST', headers: form, body: 'mandrill_events=%5B%5D' }],
      ['/v1/callbacks/vonage?status=delivered&messageId=1', { method: 'GET' }],
    ];
    for (const [path, init] of calls) {
      const res = await fetch(`${h.url}${path}`, init);
      assert.equal(res.status, 401, path);
      assert.equal(
        (await json<{ error: { code: string } }>(res)).error.code,
        'callback_not_configured',
        path,
      );
    }
  });

  test('a JSON body nested 10,000 levels deep is refused with a 4xx, not a 500, on every callback', async () => {
    const deep = `{"MessageSid":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    for (const path of [
      '/v1/callbacks/twilio/status',
      '/v1/callbacks/twilio/inbound',
      '/v1/callbacks/mailchimp',
      '/v1/callbacks/vonage',
    ]) {
      const res = await fetch(`${h.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: deep,
      });
      assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
      assert.equal(typeof (await json<{ error: { code: string } }>(res)).error.code, 'string');
    }
  });

  test('a malformed JSON body is a 400, not a 5xx', async () => {
    const res = await fetch(`${h.url}/v1/callbacks/sendgrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{',
    });
    assert.equal(res.status, 400);
  });
});
