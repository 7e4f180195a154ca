import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { SANDBOX_VONAGE } from './credentials';
import { vonageFake } from './vonage-fake';

interface VonageAnswer {
  'message-count': string;
  messages: { status: string; 'error-text'?: string; 'message-id'?: string }[];
}

describe('sandbox Vonage SMS fake', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [vonageFake()] });
  });
  after(() => sandbox.stop());

  const send = async (body: Record<string, unknown>, basic = true) => {
    const res = await fetch(`${sandbox.url}/sms/json`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(basic
          ? {
              authorization: `Basic ${Buffer.from(`${SANDBOX_VONAGE.apiKey}:${SANDBOX_VONAGE.apiSecret}`).toString('base64')}`,
            }
          : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as VonageAnswer };
  };

  test('accepts a message, one message-id per part', async () => {
    const one = await send({ from: 'Clarion', to: '447700900001', text: 'hello' });
    assert.equal(one.status, 200);
    assert.equal(one.body.messages[0]?.status, '0');
    assert.match(one.body.messages[0]?.['message-id'] ?? '', /^[0-9A-F]{16}$/);
    const long = await send({ from: 'Clarion', to: '447700900001', text: 'a'.repeat(200) });
    assert.equal(long.body['message-count'], '2');
  });

  test('api_key/api_secret in the body work too; bad credentials are status 4 inside HTTP 200', async () => {
    assert.equal(
      (
        await send(
          {
            api_key: SANDBOX_VONAGE.apiKey,
            api_secret: SANDBOX_VONAGE.apiSecret,
            from: 'C',
            to: '447700900002',
            text: 'x',
          },
          false,
        )
      ).body.messages[0]?.status,
      '0',
    );
    const bad = await send(
      { api_key: SANDBOX_VONAGE.apiKey, api_secret: 'nope', from: 'C', to: '447700900002', text: 'x' },
      false,
    );
    assert.equal(bad.status, 200);
    assert.deepEqual(bad.body.messages[0], { status: '4', 'error-text': 'Bad Credentials' });
  });

  test('missing and invalid parameters: 2 and 3', async () => {
    assert.equal((await send({ to: '447700900003', text: 'x' })).body.messages[0]?.status, '2');
    assert.equal((await send({ from: 'C', to: '+447700900003', text: 'x' })).body.messages[0]?.status, '3');
  });

  test('unicode text sent without type=unicode reaches the handset as question marks', async () => {
    await send({ from: 'C', to: '447700900004', text: 'Hi 😀' });
    await send({ from: 'C', to: '447700900005', text: 'Hi 😀', type: 'unicode' });
    assert.equal(
      (sandbox.recorder.list({ to: '447700900004' })[0]?.payload as { text: string } | undefined)?.text,
      'Hi ?',
    );
    assert.equal(
      (sandbox.recorder.list({ to: '447700900005' })[0]?.payload as { text: string } | undefined)?.text,
      'Hi 😀',
    );
  });

  test('rules give status codes in a 200, or a real HTTP error', async () => {
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900006', fail: 'rate_limit', times: 1 });
    assert.deepEqual((await send({ from: 'C', to: '447700900006', text: 'x' })).body.messages[0], {
      to: '447700900006',
      status: '1',
      'error-text': 'Throttled',
    });
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900006', fail: '29', times: 1 });
    assert.equal((await send({ from: 'C', to: '447700900006', text: 'x' })).body.messages[0]?.status, '29');
    sandbox.behaviors.add({ provider: 'vonage', to: '447700900006', fail: '500', times: 1 });
    assert.equal((await send({ from: 'C', to: '447700900006', text: 'x' })).status, 500);
    assert.equal((await send({ from: 'C', to: '447700900006', text: 'x' })).body.messages[0]?.status, '0');
  });
});
