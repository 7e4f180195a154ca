import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { webhookFake } from './webhook-fake';

describe('sandbox webhook receiver', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [webhookFake({ secret: 's' })] });
  });
  after(() => sandbox.stop());

  const sign = (body: string, secret = 's', t = Math.floor(Date.now() / 1000)) =>
    `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
  const post = (name: string, body: string, signature?: string) =>
    fetch(`${sandbox.url}/webhook/${name}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'clarion-signature': signature } : {}),
      },
      body,
    });

  test('accepts a correctly signed body and records it', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const res = await post('orders', body, sign(body));
    assert.equal(res.status, 200);
    const listed = (await (
      await fetch(`${sandbox.url}/_sandbox/messages?provider=webhook&to=orders`)
    ).json()) as {
      messages: { payload: unknown; outcome: string }[];
    };
    assert.deepEqual(listed.messages.at(-1)?.payload, { hello: 'world' });
    assert.equal(listed.messages.at(-1)?.outcome, 'accepted');
  });

  test('rejects a missing, wrong or stale signature with 401', async () => {
    const body = '{"a":1}';
    assert.equal((await post('x', body)).status, 401);
    assert.equal((await post('x', body, sign(body, 'other'))).status, 401);
    assert.equal((await post('x', body, sign(body, 's', Math.floor(Date.now() / 1000) - 3600))).status, 401);
  });

  test('obeys behaviour rules set through the control API, then recovers', async () => {
    const rule = await fetch(`${sandbox.url}/_sandbox/behaviors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'webhook', to: 'flaky', fail: '503', times: 1 }),
    });
    assert.equal(rule.status, 201);
    const body = '{}';
    assert.equal((await post('flaky', body, sign(body))).status, 503);
    assert.equal((await post('flaky', body, sign(body))).status, 200);
  });

  test('the inbox page lists what arrived', async () => {
    const html = await (await fetch(`${sandbox.url}/`)).text();
    assert.match(html, /Clarion sandbox inbox/);
    assert.match(html, /orders/);
  });
});
