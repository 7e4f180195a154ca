import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sandbox } from '../server';
import { SANDBOX_SENDGRID } from './credentials';
import { type SendgridFake, sendgridFake } from './sendgrid-fake';
import { startTestReceiver, type TestReceiver } from './test-receiver';

describe('sandbox SendGrid fake', () => {
  let sandbox: Sandbox;
  let fake: SendgridFake;
  let receiver: TestReceiver;
  before(async () => {
    receiver = await startTestReceiver();
    fake = sendgridFake({ eventWebhookUrl: `${receiver.url}/events/sendgrid` });
    sandbox = await Sandbox.start({ fakes: [fake] });
  });
  after(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  const mail = (to: string[], extra: Record<string, unknown> = {}) => ({
    personalizations: [{ to: to.map((email) => ({ email })), custom_args: { deliveryId: 'd-1' } }],
    from: { email: 'app@example.com' },
    subject: 'Hello',
    content: [
      { type: 'text/plain', value: 'Hi' },
      { type: 'text/html', value: '<p>Hi</p>' },
    ],
    ...extra,
  });
  const send = (body: unknown, key: string = SANDBOX_SENDGRID.apiKey) =>
    fetch(`${sandbox.url}/v3/mail/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
  const errors = async (res: Response) =>
    ((await res.json()) as { errors: { field: string | null }[] }).errors;

  test('202 with an empty body and X-Message-Id; one record per recipient', async () => {
    const res = await send(mail(['a@example.com', 'b@example.com']));
    assert.equal(res.status, 202);
    assert.equal(await res.text(), '');
    const id = res.headers.get('x-message-id');
    assert.ok(id && id.length >= 16);
    assert.equal(
      sandbox.recorder.list({ provider: 'sendgrid', to: 'b@example.com' })[0]?.providerMessageId,
      id,
    );
  });

  test('401 for a wrong key, with SendGrid error JSON', async () => {
    const res = await send(mail(['a@example.com']), 'SG.wrong');
    assert.equal(res.status, 401);
    assert.equal((await errors(res)).length, 1);
  });

  test('400 for what SendGrid rejects: no personalizations, bad address, no content, text/plain not first, > 1000 recipients, reserved header', async () => {
    assert.equal((await send({ ...mail(['a@example.com']), personalizations: [] })).status, 400);
    assert.equal(
      (await errors(await send(mail(['not-an-address']))))[0]?.field,
      'personalizations.0.to.0.email',
    );
    assert.equal((await errors(await send(mail(['a@example.com'], { content: [] }))))[0]?.field, 'content');
    const reversed = mail(['a@example.com'], {
      content: [
        { type: 'text/html', value: '<p>x</p>' },
        { type: 'text/plain', value: 'x' },
      ],
    });
    assert.equal((await send(reversed)).status, 400);
    const many = Array.from({ length: 1001 }, (_, i) => `u${i}@example.com`);
    assert.equal((await send(mail(many))).status, 400);
    assert.equal((await send(mail(many.slice(0, 1000)))).status, 202);
    assert.equal((await send(mail(['a@example.com'], { headers: { Subject: 'x' } }))).status, 400);
    assert.equal((await send(mail(['a@example.com'], { subject: undefined }))).status, 400);
  });

  test('rate limit: 429 with X-RateLimit-Reset in the future', async () => {
    sandbox.behaviors.add({
      provider: 'sendgrid',
      to: 'limited@example.com',
      fail: 'rate_limit',
      retryAfterSeconds: 5,
      times: 1,
    });
    const res = await send(mail(['limited@example.com']));
    assert.equal(res.status, 429);
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    assert.ok(reset >= Math.floor(Date.now() / 1000) + 4);
    assert.equal((await send(mail(['limited@example.com']))).status, 202);
  });

  test('posts events signed with ECDSA over timestamp + body, custom args flattened in', async () => {
    sandbox.behaviors.add({ provider: 'sendgrid', to: 'bounce@example.com', fail: 'bounce', times: 1 });
    assert.equal((await send(mail(['bounce@example.com']))).status, 202);
    const deadline = Date.now() + 5000;
    const find = () => receiver.received.find((r) => r.body.includes('bounce@example.com'));
    while (!find() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const post = find()!;
    const events = JSON.parse(post.body) as { event: string; deliveryId: string }[];
    assert.deepEqual(
      events.map((e) => e.event),
      ['processed', 'bounce'],
    );
    assert.equal(events[0]?.deliveryId, 'd-1');
    const key = createPublicKey({
      key: Buffer.from(fake.eventPublicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    const timestamp = String(post.headers['x-twilio-email-event-webhook-timestamp']);
    const signature = Buffer.from(String(post.headers['x-twilio-email-event-webhook-signature']), 'base64');
    assert.equal(verify('sha256', Buffer.from(timestamp + post.body), key, signature), true);
    assert.equal(verify('sha256', Buffer.from(`${timestamp}${post.body} `), key, signature), false);
  });
});
