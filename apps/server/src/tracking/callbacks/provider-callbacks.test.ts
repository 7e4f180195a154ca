import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SANDBOX_TWILIO, SendgridEventSigner, twilioSignature } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { sql } from '../../testing/db';
import { json, type TestApp } from '../../testing/harness';
import {
  deliveryOf,
  MAILCHIMP_KEY,
  send,
  startTrackingHarness,
  type TrackingHarness,
  VONAGE_SECRET,
} from '../../testing/tracking-harness';

interface UserView {
  contacts: { kind: string; disabled: boolean; disabledReason: string | null }[];
}

/** A second Twilio account, brought by one app as its own integration. */
const OWN_ACCOUNT = `AC${'0'.repeat(31)}2`;
const OWN_TOKEN = 'the-apps-own-twilio-auth-token-2';

describe('provider callbacks: signed, mapped onto the lifecycle, idempotent', () => {
  let t: TrackingHarness;
  let app: TestApp;
  let url: string;
  before(async () => {
    t = await startTrackingHarness(
      'callbacks',
      {},
      { [SANDBOX_TWILIO.accountSid]: SANDBOX_TWILIO.authToken, [OWN_ACCOUNT]: OWN_TOKEN },
    );
    url = t.h.url;
    app = await t.h.createApp();
    for (const [id, phone, email] of [
      ['sam', '+15550001001', 'sam@example.com'],
      ['dead', '+15550001002', 'dead@example.com'],
      ['stopper', '+15550001003', 'stopper@example.com'],
      ['vonny', '+15550001004', 'vonny@example.com'],
      ['mandy', '+15550001005', 'mandy@example.com'],
    ] as const) {
      const res = await app.call(`/v1/users/${id}`, { method: 'PUT', body: { phone, email } });
      assert.equal(res.status, 201);
    }
  });
  after(() => t.close());

  const eventCount = async (deliveryId: string) =>
    Number(
      (
        await sql<{ n: string }>(
          t.h.db.url,
          'SELECT count(*) AS n FROM delivery_events WHERE delivery_id = $1',
          [deliveryId],
        )
      )[0]!.n,
    );
  // The users API shows no disabled flag for e-mail and phone: read the contacts table.
  const user = async (id: string): Promise<UserView> => ({
    contacts: await sql<UserView['contacts'][number]>(
      t.h.db.url,
      `SELECT c.kind, c.disabled_at IS NOT NULL AS disabled, c.disabled_reason AS "disabledReason"
         FROM contacts c JOIN users u ON u.id = c.user_id WHERE u.app_id = $1 AND u.external_id = $2`,
      [app.id, id],
    ),
  });
  const twilioPost = (path: string, params: Record<string, string>, signature?: string) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature === undefined ? {} : { 'x-twilio-signature': signature }),
      },
      body: new URLSearchParams(params).toString(),
    });

  test('Twilio: the fake’s signed status callbacks move an SMS to delivered, with provider and message id in the history', async () => {
    const id = await send(app, { to: { userId: 'sam' }, content: { sms: { text: 'Your code is 1234' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    assert.equal(d.plugin, 'twilio');
    assert.match(d.providerMessageId ?? '', /^SM[0-9a-f]{32}$/);
    const steps = d.events.map((e) => e.status);
    assert.deepEqual(steps.slice(0, 2), ['pending', 'queued']);
    assert.ok(steps.includes('sent'));
    assert.equal(steps.at(-1), 'delivered');
    const delivered = d.events.at(-1)!;
    assert.equal(delivered.provider, 'twilio');
    assert.equal(delivered.source, 'twilio');
    assert.ok(!Number.isNaN(Date.parse(delivered.at)));
    const sent = d.events.find((e) => e.status === 'sent')!;
    assert.equal(sent.providerMessageId, d.providerMessageId);
    // Usually the worker records "sent" (attempt 1); under load Twilio's own "sent" callback can overtake it (no attempt).
    assert.equal(sent.attempt, sent.source === 'twilio' ? null : 1);
    await waitFor(
      'both callbacks answered',
      () =>
        t.twilio.callbacks.filter((c) => c.params.MessageSid === d.providerMessageId && c.answered === 200)
          .length === 2,
    );
  });

  test('Twilio: the same callback twice changes nothing (no status change, no extra event)', async () => {
    const id = await send(app, { to: { userId: 'sam' }, content: { sms: { text: 'again' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    const delivered = await waitFor('delivered callback recorded', () =>
      t.twilio.callbacks.find(
        (c) => c.params.MessageSid === d.providerMessageId && c.params.MessageStatus === 'delivered',
      ),
    );
    const before = await eventCount(d.id);
    const path = delivered.url.slice(url.length);
    const replay = await twilioPost(path, delivered.params, delivered.signature);
    assert.equal(replay.status, 200);
    assert.deepEqual(await json(replay), { received: 1, changed: 0, unknown: 0 });
    // A late "sent" after "delivered" is no step back either.
    const sent = t.twilio.callbacks.find(
      (c) => c.params.MessageSid === d.providerMessageId && c.params.MessageStatus === 'sent',
    )!;
    assert.equal((await twilioPost(path, sent.params, sent.signature)).status, 200);
    assert.equal(await eventCount(d.id), before);
    assert.equal((await deliveryOf(app, id, () => true)).status, 'delivered');
  });

  test('Twilio: unsigned, badly signed and tampered callbacks are refused with 401 and change nothing', async () => {
    const id = await send(app, { to: { userId: 'sam' }, content: { sms: { text: 'third' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    const before = await eventCount(d.id);
    const params = {
      MessageSid: d.providerMessageId!,
      MessageStatus: 'failed',
      ErrorCode: '30005',
      AccountSid: SANDBOX_TWILIO.accountSid,
    };
    const path = `/v1/callbacks/twilio/status?clarionDelivery=${d.id}`;
    const unsigned = await twilioPost(path, params);
    assert.equal(unsigned.status, 401);
    assert.equal((await json<{ error: { code: string } }>(unsigned)).error.code, 'bad_signature');
    assert.equal(
      (await twilioPost(path, params, twilioSignature('wrong-token', `${url}${path}`, params))).status,
      401,
    );
    const good = twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, params);
    assert.equal((await twilioPost(path, { ...params, ErrorCode: '30007' }, good)).status, 401);
    assert.equal(await eventCount(d.id), before);
    assert.equal((await deliveryOf(app, id, () => true)).status, 'delivered');
    assert.equal((await user('sam')).contacts.find((c) => c.kind === 'phone')!.disabled, false);
  });

  test('Twilio: a signature for the address in Host or X-Forwarded-Host is refused; only CLARION_PUBLIC_URL is signed', async () => {
    const id = await send(app, { to: { userId: 'sam' }, content: { sms: { text: 'forged host' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    const before = await eventCount(d.id);
    const params = {
      MessageSid: d.providerMessageId!,
      MessageStatus: 'failed',
      ErrorCode: '30005',
      AccountSid: SANDBOX_TWILIO.accountSid,
    };
    const path = `/v1/callbacks/twilio/status?clarionDelivery=${d.id}`;
    // A signature captured for another deployment (same Twilio account), replayed with that host named.
    const elsewhere = twilioSignature(SANDBOX_TWILIO.authToken, `https://other.example.com${path}`, params);
    const body = new URLSearchParams(params).toString();
    const forwarded = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': elsewhere,
        'x-forwarded-host': 'other.example.com',
        'x-forwarded-proto': 'https',
      },
      body,
    });
    assert.equal(forwarded.status, 401);
    const hostSigned = twilioSignature(SANDBOX_TWILIO.authToken, `http://other.example.com${path}`, params);
    const viaHost = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${url}${path}`,
        {
          method: 'POST',
          headers: {
            host: 'other.example.com',
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': hostSigned,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(viaHost, 401);
    assert.equal(await eventCount(d.id), before);
    assert.equal((await deliveryOf(app, id, () => true)).status, 'delivered');
  });

  test('Twilio: "undelivered" with 30005 (unknown number) fails the delivery and disables the phone', async () => {
    t.messaging.behaviors.add({ provider: 'twilio', to: '+15550001002', fail: '30005', times: 1 });
    const id = await send(app, { to: { userId: 'dead' }, content: { sms: { text: 'hello?' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'failed', 'sms failed');
    assert.equal(d.reason, 'invalid_address');
    assert.equal(d.errorCode, '30005');
    const failed = d.events.at(-1)!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, '30005');
    assert.equal(failed.retryable, false);
    const phone = (await user('dead')).contacts.find((c) => c.kind === 'phone')!;
    assert.equal(phone.disabled, true);
    assert.equal(phone.disabledReason, 'twilio_30005');
  });

  test('Twilio: error 21610 in a callback opts the user out of SMS (source sms_stop)', async () => {
    const id = await send(app, { to: { userId: 'stopper' }, content: { sms: { text: 'promo' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    // A message that Twilio later reports blocked by the recipient's STOP (sent, then failed with 21610).
    await sql(t.h.db.url, `UPDATE deliveries SET status = 'sent' WHERE id = $1`, [d.id]);
    const path = `/v1/callbacks/twilio/status?clarionDelivery=${d.id}`;
    const params = {
      MessageSid: d.providerMessageId!,
      MessageStatus: 'failed',
      ErrorCode: '21610',
      AccountSid: SANDBOX_TWILIO.accountSid,
    };
    const res = await twilioPost(
      path,
      params,
      twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, params),
    );
    assert.equal(res.status, 200);
    const prefs = await sql<{ channel: string; category: string; enabled: boolean; source: string }>(
      t.h.db.url,
      `SELECT p.channel, p.category, p.enabled, p.source FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.external_id = 'stopper'`,
    );
    assert.deepEqual(prefs, [{ channel: 'sms', category: '*', enabled: false, source: 'sms_stop' }]);
  });

  test('Twilio: an inbound "STOP" reply opts every user with that number out of SMS; other words do nothing', async () => {
    const path = '/v1/callbacks/twilio/inbound';
    const other = {
      From: '+15550001001',
      To: SANDBOX_TWILIO.from,
      Body: 'thanks!',
      MessageSid: 'SM'.padEnd(34, '1'),
    };
    const ok1 = await twilioPost(
      path,
      other,
      twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, other),
    );
    assert.equal(ok1.status, 200);
    assert.match(await ok1.text(), /<Response><\/Response>/);
    const stop = { ...other, Body: ' stop ', MessageSid: 'SM'.padEnd(34, '2') };
    assert.equal((await twilioPost(path, stop, 'bad')).status, 401);
    const ok2 = await twilioPost(
      path,
      stop,
      twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, stop),
    );
    assert.equal(ok2.status, 200);
    const prefs = await sql<{ source: string; channel: string }>(
      t.h.db.url,
      `SELECT p.source, p.channel FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.external_id = 'sam'`,
    );
    assert.deepEqual(prefs, [{ source: 'sms_stop', channel: 'sms' }]);
  });

  test('Twilio: an inbound "START" after a STOP takes the STOP back; an opt-out set through the API stays', async () => {
    const path = '/v1/callbacks/twilio/inbound';
    const post = async (Body: string, n: string) => {
      const params = { From: '+15550001001', To: SANDBOX_TWILIO.from, Body, MessageSid: 'SM'.padEnd(34, n) };
      const res = await twilioPost(
        path,
        params,
        twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, params),
      );
      assert.equal(res.status, 200);
    };
    const rules = async () =>
      sql<{ source: string; channel: string; category: string }>(
        t.h.db.url,
        `SELECT p.source, p.channel, p.category FROM user_preferences p JOIN users u ON u.id = p.user_id
          WHERE u.external_id = 'sam' ORDER BY p.category`,
      );
    await post('STOP', '3');
    assert.deepEqual(await rules(), [{ source: 'sms_stop', channel: 'sms', category: '*' }]);
    await post(' start ', '4');
    assert.deepEqual(await rules(), [], 'SMS allowed again');
    // A sent SMS goes out again.
    const id = await send(app, { to: { userId: 'sam' }, content: { sms: { text: 'back again' } } });
    const d = await deliveryOf(
      app,
      id,
      (x) => x.status !== 'pending' && x.status !== 'queued',
      'sms planned',
    );
    assert.notEqual(d.status, 'suppressed');

    // The user's own choice, made in the app, is not the number's STOP: START leaves it.
    assert.equal(
      (
        await app.call('/v1/users/sam/preferences', {
          method: 'PUT',
          body: { rules: [{ channel: 'sms', category: 'promo', enabled: false }] },
        })
      ).status,
      200,
    );
    await post('STOP', '5');
    await post('UNSTOP', '6');
    assert.deepEqual(
      (await rules()).map((r) => `${r.channel}:${r.category}`),
      ['sms:promo'],
      'only the STOP was taken back',
    );
  });

  test('SendGrid: signed events from the fake move an e-mail to delivered', async () => {
    const id = await send(app, {
      to: { userId: 'sam' },
      content: { email: { subject: 'Hi', text: 'Hello' } },
    });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'email delivered');
    assert.equal(d.plugin, 'sendgrid');
    assert.equal(d.events.at(-1)!.source, 'sendgrid');
    await waitFor('events answered 200', () =>
      t.sendgrid.eventPosts.some((p) => p.answered === 200 && p.events.some((e) => e.deliveryId === d.id)),
    );
  });

  test('SendGrid: a bounce fails the delivery and disables the e-mail; a post signed with another key, or unsigned, is 401', async () => {
    t.messaging.behaviors.add({ provider: 'sendgrid', to: 'dead@example.com', fail: 'bounce', times: 1 });
    const id = await send(app, {
      to: { userId: 'dead' },
      content: { email: { subject: 'Hi', text: 'Hello' } },
    });
    const d = await deliveryOf(app, id, (x) => x.status === 'failed', 'email bounced');
    assert.equal(d.reason, 'bounced');
    const email = (await user('dead')).contacts.find((c) => c.kind === 'email')!;
    assert.deepEqual([email.disabled, email.disabledReason], [true, 'bounce']);
    const body = JSON.stringify(
      t.sendgrid.eventPosts.find((p) => p.events.some((e) => e.deliveryId === d.id))!.events,
    );
    const stranger = new SendgridEventSigner();
    const ts = String(Math.floor(Date.now() / 1000));
    const refused = await fetch(`${url}/v1/callbacks/sendgrid`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': stranger.sign(ts, body),
        'x-twilio-email-event-webhook-timestamp': ts,
      },
      body,
    });
    assert.equal(refused.status, 401);
    const unsigned = await fetch(`${url}/v1/callbacks/sendgrid`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(unsigned.status, 401);
  });

  test('SendGrid: the same signed post delivered twice (a provider retry) changes nothing the second time', async () => {
    // Catch the fake's signed post on its way, then hand it to the server twice.
    const caught: { body: string; headers: Record<string, string> }[] = [];
    const trap = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        caught.push({ body, headers: req.headers as Record<string, string> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    t.sendgrid.setEventWebhookUrl(`http://127.0.0.1:${(trap.address() as AddressInfo).port}/`);
    try {
      const id = await send(app, {
        to: { userId: 'mandy' },
        content: { email: { subject: 'Retry', text: 'Hello' } },
      });
      const post = await waitFor('signed post caught', () => caught[0]);
      const forward = () =>
        fetch(`${url}/v1/callbacks/sendgrid`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-twilio-email-event-webhook-signature': post.headers['x-twilio-email-event-webhook-signature']!,
            'x-twilio-email-event-webhook-timestamp': post.headers['x-twilio-email-event-webhook-timestamp']!,
          },
          body: post.body,
        });
      const first = await json<{ changed: number }>(await forward());
      assert.equal(first.changed, 1);
      const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'email delivered');
      const before = await eventCount(d.id);
      assert.deepEqual(await json(await forward()), { received: 2, changed: 0, unknown: 0 });
      assert.equal(await eventCount(d.id), before);
      // One changed byte and the signature no longer holds.
      const tampered = await fetch(`${url}/v1/callbacks/sendgrid`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': post.headers['x-twilio-email-event-webhook-signature']!,
          'x-twilio-email-event-webhook-timestamp': post.headers['x-twilio-email-event-webhook-timestamp']!,
        },
        body: post.body.replace('delivered', 'bounce'),
      });
      assert.equal(tampered.status, 401);
    } finally {
      t.sendgrid.setEventWebhookUrl(`${url}/v1/callbacks/sendgrid`);
      await new Promise<void>((r) => trap.close(() => r()));
    }
  });

  test('SendGrid: a correctly signed batch whose timestamp is outside the replay window is 401 and changes nothing', async () => {
    const id = await send(app, {
      to: { userId: 'mandy' },
      content: { email: { subject: 'Old', text: 'Hi' } },
    });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'email delivered');
    const before = await eventCount(d.id);
    const body = JSON.stringify([{ event: 'open', deliveryId: d.id }]);
    const post = (ts: string) =>
      fetch(`${url}/v1/callbacks/sendgrid`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-twilio-email-event-webhook-signature': t.sendgrid.signEvents(ts, body),
          'x-twilio-email-event-webhook-timestamp': ts,
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    const stale = await post(String(now - 30 * 24 * 3600));
    assert.equal(stale.status, 401);
    assert.equal((await json<{ error: { code: string } }>(stale)).error.code, 'bad_signature');
    assert.equal((await post(String(now - 6 * 60))).status, 401, 'past the 5-minute default');
    assert.equal((await post(String(now + 3600))).status, 401, 'from the future');
    assert.equal(await eventCount(d.id), before);
    assert.equal((await deliveryOf(app, id, () => true)).status, 'delivered');
    const fresh = await post(String(now));
    assert.equal(fresh.status, 200, 'the same batch signed now is taken');
    assert.equal((await deliveryOf(app, id, () => true)).status, 'opened');
  });

  test('Mailchimp Transactional: X-Mandrill-Signature verified; send → delivered, open → opened, repeat changes nothing, spam disables the address; bad signature 401', async () => {
    const id = await send(app, {
      to: { userId: 'mandy' },
      content: { email: { subject: 'Hi', text: 'Hello' } },
    });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'email delivered');
    await sql(t.h.db.url, `UPDATE deliveries SET status = 'sent' WHERE id = $1`, [d.id]);
    const path = '/v1/callbacks/mailchimp';
    const events = [
      { event: 'send', ts: 1, _id: 'm1', msg: { _id: 'm1', metadata: { deliveryId: d.id }, state: 'sent' } },
      { event: 'open', ts: 2, _id: 'm1', msg: { _id: 'm1', metadata: { deliveryId: d.id }, state: 'sent' } },
    ];
    const params = { mandrill_events: JSON.stringify(events) };
    const sign = (key: string, p: Record<string, string>) =>
      createHmac('sha1', key)
        .update(
          `${url}${path}${Object.keys(p)
            .sort()
            .map((k) => k + p[k])
            .join('')}`,
        )
        .digest('base64');
    const post = (p: Record<string, string>, signature?: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature ? { 'x-mandrill-signature': signature } : {}),
        },
        body: new URLSearchParams(p).toString(),
      });
    assert.equal((await fetch(`${url}${path}`, { method: 'HEAD' })).status, 200);
    assert.equal((await post(params)).status, 401);
    assert.equal((await post(params, sign('not-the-key', params))).status, 401);
    const ok = await post(params, sign(MAILCHIMP_KEY, params));
    assert.equal(ok.status, 200);
    assert.deepEqual(await json(ok), { received: 2, changed: 2, unknown: 0 });
    const again = await post(params, sign(MAILCHIMP_KEY, params));
    assert.deepEqual(await json(again), { received: 2, changed: 0, unknown: 0 });
    const view = await deliveryOf(app, id, () => true);
    assert.equal(view.status, 'opened');
    assert.deepEqual(
      view.events.filter((e) => e.source === 'mailchimp').map((e) => e.status),
      ['delivered', 'opened'],
    );
    const bad = { mandrill_events: 'not json' };
    assert.equal((await post(bad, sign(MAILCHIMP_KEY, bad))).status, 400);
    // A spam report disables the address.
    const spam = {
      mandrill_events: JSON.stringify([
        { event: 'spam', ts: 3, msg: { _id: 'm1', metadata: { deliveryId: d.id } } },
      ]),
    };
    assert.equal((await post(spam, sign(MAILCHIMP_KEY, spam))).status, 200);
    const email = (await user('mandy')).contacts.find((c) => c.kind === 'email')!;
    assert.deepEqual([email.disabled, email.disabledReason], [true, 'spam_report']);
  });

  test('Vonage: signed delivery receipts (md5hash, replay window) map delivered / failed; unsigned, stale or wrong 401', async () => {
    const id = await send(app, { to: { userId: 'vonny' }, content: { sms: { text: 'hi' } } });
    const d = await deliveryOf(app, id, (x) => x.status === 'delivered', 'sms delivered');
    await sql(t.h.db.url, `UPDATE deliveries SET status = 'sent' WHERE id = $1`, [d.id]);
    const signed = (p: Record<string, string>, secret = VONAGE_SECRET) => {
      const q = Object.keys(p)
        .sort()
        .map((k) => `&${k}=${p[k]!.replace(/[&=]/g, '_')}`)
        .join('');
      return {
        ...p,
        sig: createHash('md5')
          .update(q + secret)
          .digest('hex'),
      };
    };
    const now = String(Math.floor(Date.now() / 1000));
    const receipt = {
      msisdn: '15550001004',
      to: 'Clarion',
      'network-code': '310260',
      messageId: '0A0000000123ABCD1',
      price: '0.00570000',
      status: 'failed',
      scts: '2601011200',
      'err-code': '9',
      'client-ref': d.id,
      'message-timestamp': '2026-01-01 12:00:00',
      timestamp: now,
      nonce: 'a1b2c3',
    };
    const get = (p: Record<string, string>) => fetch(`${url}/v1/callbacks/vonage?${new URLSearchParams(p)}`);
    assert.equal((await get(receipt)).status, 401);
    assert.equal((await get(signed(receipt, 'wrong'))).status, 401);
    assert.equal((await get(signed({ ...receipt, timestamp: String(Number(now) - 3600) }))).status, 401);
    const ok = await fetch(`${url}/v1/callbacks/vonage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signed(receipt)),
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await json(ok), { received: 1, changed: 1, unknown: 0 });
    assert.deepEqual(await json(await get(signed(receipt))), { received: 1, changed: 0, unknown: 0 });
    const view = await deliveryOf(app, id, () => true);
    assert.deepEqual([view.status, view.reason, view.errorCode], ['failed', 'invalid_address', '9']);
    const phone = (await user('vonny')).contacts.find((c) => c.kind === 'phone')!;
    assert.deepEqual([phone.disabled, phone.disabledReason], [true, 'vonage_9']);
  });

  test('Twilio: an app with its own account gets its callbacks verified with its own auth token', async () => {
    const own = await t.h.createApp();
    const put = await t.h.admin(`/admin/apps/${own.id}/integrations/twilio`, {
      method: 'PUT',
      body: JSON.stringify({
        config: {
          accountSid: OWN_ACCOUNT,
          authToken: OWN_TOKEN,
          from: SANDBOX_TWILIO.from,
          statusCallbackUrl: `${url}/v1/callbacks/twilio/status`,
        },
      }),
    });
    assert.ok(put.status === 200 || put.status === 204, await put.text());
    assert.equal(
      (await own.call('/v1/users/olga', { method: 'PUT', body: { phone: '+15550001009' } })).status,
      201,
    );
    const id = await send(own, { to: { userId: 'olga' }, content: { sms: { text: 'from our own number' } } });
    const d = await deliveryOf(own, id, (x) => x.status === 'delivered', 'delivered via own account');
    assert.equal(d.events.at(-1)!.source, 'twilio');
    // Signed with neither the process token nor the app's: refused.
    const path = `/v1/callbacks/twilio/status?clarionDelivery=${d.id}`;
    const params = {
      MessageSid: d.providerMessageId!,
      MessageStatus: 'failed',
      ErrorCode: '30005',
      AccountSid: OWN_ACCOUNT,
    };
    assert.equal(
      (await twilioPost(path, params, twilioSignature('a-third-token', `${url}${path}`, params))).status,
      401,
    );
    // The app's token is good only for the app's own deliveries.
    // A user of the main app who never replied STOP (sam did, above: his SMS is suppressed now).
    assert.equal(
      (await app.call('/v1/users/tia', { method: 'PUT', body: { phone: '+15550001010' } })).status,
      201,
    );
    const other = await send(app, { to: { userId: 'tia' }, content: { sms: { text: 'x' } } });
    const od = await deliveryOf(app, other, (x) => x.status === 'delivered', 'delivered');
    const otherPath = `/v1/callbacks/twilio/status?clarionDelivery=${od.id}`;
    const p2 = { ...params, MessageSid: od.providerMessageId! };
    assert.equal(
      (await twilioPost(otherPath, p2, twilioSignature(OWN_TOKEN, `${url}${otherPath}`, p2))).status,
      401,
    );
  });

  test('a callback about an unknown delivery is accepted (200) and changes nothing', async () => {
    const path = '/v1/callbacks/twilio/status';
    const params = {
      MessageSid: `SM${'9'.repeat(32)}`,
      MessageStatus: 'delivered',
      AccountSid: SANDBOX_TWILIO.accountSid,
    };
    const res = await twilioPost(
      path,
      params,
      twilioSignature(SANDBOX_TWILIO.authToken, `${url}${path}`, params),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { received: 1, changed: 0, unknown: 1 });
  });
});
