import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { SANDBOX_TWILIO } from './credentials';
import { startTestReceiver, type TestReceiver } from './test-receiver';
import { type TwilioFake, twilioFake } from './twilio-fake';
import { twilioSignature } from './twilio-signature';

describe('sandbox Twilio fake', () => {
  let sandbox: Sandbox;
  let fake: TwilioFake;
  let receiver: TestReceiver;
  before(async () => {
    fake = twilioFake();
    sandbox = await Sandbox.start({ fakes: [fake] });
    receiver = await startTestReceiver();
  });
  after(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const send = (
    form: Record<string, string>,
    auth = basic(SANDBOX_TWILIO.accountSid, SANDBOX_TWILIO.authToken),
    sid: string = SANDBOX_TWILIO.accountSid,
  ) =>
    fetch(`${sandbox.url}/2010-04-01/Accounts/${sid}/Messages.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth },
      body: new URLSearchParams(form).toString(),
    });
  const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

  test('creates a message: 201 with an SM sid, queued, and its segment count', async () => {
    const res = await send({ To: '+14155550100', From: SANDBOX_TWILIO.from, Body: 'x'.repeat(161) });
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.match(String(body.sid), /^SM[0-9a-f]{32}$/);
    assert.equal(body.status, 'queued');
    assert.equal(body.num_segments, '2');
    const [rec] = sandbox.recorder.list({ provider: 'twilio', to: '+14155550100' });
    assert.equal(rec?.outcome, 'accepted');
    assert.equal((rec?.payload as { text: string } | undefined)?.text.length, 161);
  });

  test('API key auth works for the key owner account only', async () => {
    assert.equal(
      (
        await send(
          { To: '+14155550101', From: SANDBOX_TWILIO.from, Body: 'k' },
          basic(SANDBOX_TWILIO.apiKeySid, SANDBOX_TWILIO.apiKeySecret),
        )
      ).status,
      201,
    );
    const other = `AC${'9'.repeat(32)}`;
    const res = await send(
      { To: '+14155550101', From: SANDBOX_TWILIO.from, Body: 'k' },
      basic(SANDBOX_TWILIO.apiKeySid, SANDBOX_TWILIO.apiKeySecret),
      other,
    );
    assert.equal(res.status, 401);
  });

  test('refuses bad credentials with 20003 in Twilio error JSON', async () => {
    const res = await send(
      { To: '+14155550100', From: SANDBOX_TWILIO.from, Body: 'hi' },
      basic(SANDBOX_TWILIO.accountSid, 'wrong'),
    );
    assert.equal(res.status, 401);
    assert.deepEqual(await json(res), {
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401,
    });
    assert.equal((await send({ To: '+14155550100', From: SANDBOX_TWILIO.from, Body: 'hi' }, '')).status, 401);
  });

  test('validates like Twilio: non-E.164 To is 21211, missing From 21603, empty Body 21602, > 1600 chars 21617', async () => {
    assert.equal(
      (await json(await send({ To: '4155550100', From: SANDBOX_TWILIO.from, Body: 'hi' }))).code,
      21211,
    );
    assert.equal((await json(await send({ To: '+14155550100', Body: 'hi' }))).code, 21603);
    assert.equal((await json(await send({ To: '+14155550100', From: SANDBOX_TWILIO.from }))).code, 21602);
    assert.equal(
      (await json(await send({ To: '+14155550100', From: SANDBOX_TWILIO.from, Body: 'x'.repeat(1601) })))
        .code,
      21617,
    );
  });

  test('obeys rules: 21610 STOP, 20429 with Retry-After, RFC 9457 form, a bare 503', async () => {
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550110', fail: '21610', times: 1 });
    const stop = await send({ To: '+14155550110', From: SANDBOX_TWILIO.from, Body: 'hi' });
    assert.equal(stop.status, 400);
    assert.equal((await json(stop)).code, 21610);
    sandbox.behaviors.add({
      provider: 'twilio',
      to: '+14155550111',
      fail: 'rate_limit',
      retryAfterSeconds: 3,
      times: 1,
    });
    const limited = await send({ To: '+14155550111', From: SANDBOX_TWILIO.from, Body: 'hi' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '3');
    assert.equal((await json(limited)).code, 20429);
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550112', fail: 'rfc9457:21211', times: 1 });
    const problem = await send({ To: '+14155550112', From: SANDBOX_TWILIO.from, Body: 'hi' });
    assert.equal(problem.headers.get('content-type')?.startsWith('application/problem+json'), true);
    assert.equal((await json(problem)).title, "Invalid 'To' Phone Number");
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550113', fail: '503', times: 1 });
    assert.equal((await send({ To: '+14155550113', From: SANDBOX_TWILIO.from, Body: 'hi' })).status, 503);
    assert.equal((await send({ To: '+14155550113', From: SANDBOX_TWILIO.from, Body: 'hi' })).status, 201);
  });

  test('posts signed status callbacks: sent then delivered, or undelivered with ErrorCode', async () => {
    const url = `${receiver.url}/callbacks/twilio`;
    const ok = await json(
      await send({ To: '+14155550120', From: SANDBOX_TWILIO.from, Body: 'hi', StatusCallback: url }),
    );
    sandbox.behaviors.add({ provider: 'twilio', to: '+14155550121', fail: '30003', times: 1 });
    const failed = await json(
      await send({ To: '+14155550121', From: SANDBOX_TWILIO.from, Body: 'hi', StatusCallback: url }),
    );
    const deadline = Date.now() + 5000;
    // The fake notes a callback once its POST is answered, a moment after the receiver has it: wait for both.
    while ((receiver.received.length < 4 || fake.callbacks.length < 4) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const posts = receiver.received.map((r) => ({
      params: Object.fromEntries(new URLSearchParams(r.body)),
      signature: r.headers['x-twilio-signature'],
    }));
    const forSid = (sid: unknown) => posts.filter((p) => p.params.MessageSid === sid);
    assert.deepEqual(
      forSid(ok.sid).map((p) => p.params.MessageStatus),
      ['sent', 'delivered'],
    );
    assert.deepEqual(
      forSid(failed.sid).map((p) => [p.params.MessageStatus, p.params.ErrorCode]),
      [
        ['sent', undefined],
        ['undelivered', '30003'],
      ],
    );
    for (const p of posts)
      assert.equal(p.signature, twilioSignature(SANDBOX_TWILIO.authToken, url, p.params));
    assert.equal(fake.callbacks.length, 4);
  });
});
