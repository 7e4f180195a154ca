import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { SANDBOX_MAILCHIMP } from './credentials';
import { mailchimpFake } from './mailchimp-fake';

describe('sandbox Mailchimp Transactional fake', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [mailchimpFake()] });
  });
  after(() => sandbox.stop());

  const send = async (
    to: string[],
    key: string = SANDBOX_MAILCHIMP.apiKey,
    path = '/api/1.3/messages/send',
  ) => {
    const res = await fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        key,
        message: {
          subject: 'S',
          text: 'T',
          from_email: 'app@example.com',
          to: to.map((email) => ({ email, type: 'to' })),
        },
      }),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  test('per-recipient results, with or without the .json suffix', async () => {
    const res = await send(['a@example.com', 'b@example.com']);
    assert.equal(res.status, 200);
    const results = res.body as { email: string; status: string; _id: string }[];
    assert.deepEqual(
      results.map((r) => [r.email, r.status]),
      [
        ['a@example.com', 'sent'],
        ['b@example.com', 'sent'],
      ],
    );
    assert.match(results[0]!._id, /^[0-9a-f]{32}$/);
    assert.equal(
      (await send(['c@example.com'], SANDBOX_MAILCHIMP.apiKey, '/api/1.3/messages/send.json')).status,
      200,
    );
  });

  test('a wrong key is Invalid_Key with HTTP 500', async () => {
    const res = await send(['a@example.com'], 'nope');
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      status: 'error',
      code: -1,
      name: 'Invalid_Key',
      message: 'Invalid API key',
    });
  });

  test('recipient-level outcomes: rejected with reason, invalid; and request-level errors', async () => {
    sandbox.behaviors.add({ provider: 'mailchimp', to: 'gone@example.com', fail: 'hard-bounce', times: 1 });
    const res = await send(['ok@example.com', 'gone@example.com', 'broken-address']);
    assert.deepEqual(
      (res.body as { status: string; reject_reason: string | null }[]).map((r) => [
        r.status,
        r.reject_reason,
      ]),
      [
        ['sent', null],
        ['rejected', 'hard-bounce'],
        ['invalid', null],
      ],
    );
    sandbox.behaviors.add({ provider: 'mailchimp', to: 'x@example.com', fail: 'GeneralError', times: 1 });
    const general = await send(['x@example.com']);
    assert.equal(general.status, 500);
    assert.equal((general.body as { name: string }).name, 'GeneralError');
    sandbox.behaviors.add({ provider: 'mailchimp', to: 'x@example.com', fail: 'rate_limit', times: 1 });
    assert.equal((await send(['x@example.com'])).status, 429);
  });

  test('validation: no recipients is a ValidationError', async () => {
    const res = await send([]);
    assert.equal((res.body as { name: string }).name, 'ValidationError');
  });
});
