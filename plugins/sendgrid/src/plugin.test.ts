import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  InvalidAddressError,
  type MessageContent,
  PermanentError,
  pluginMetricsFactory,
  RetryableError,
  type Sender,
  silentLogger,
} from '@clarion/plugin-sdk';
import { makeJob, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { type OnceExtra, SANDBOX_SENDGRID, Sandbox, type SendgridFake, sendgridFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { Registry } from 'prom-client';
import type { SendgridAppConfig } from './config';
import { sendgridMetrics } from './metrics';
import sendgridPlugin from './plugin';

const UNSUBSCRIBE = {
  'List-Unsubscribe': '<https://clarion.test/v1/unsubscribe/tok>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
};
const job = (
  email: string,
  content: MessageContent = {
    subject: 'Hello',
    html: '<p>Hi <b>there</b></p>',
    text: 'Hi there',
    headers: UNSUBSCRIBE,
  },
) =>
  makeJob({
    plugin: 'sendgrid',
    channel: 'email',
    address: { kind: 'email', contactId: 'c1', email, name: 'Ann' },
    content,
    category: 'marketing',
  });

let conformanceSandbox: Sandbox;
runConformanceSuite({
  plugin: sendgridPlugin,
  setup: async () => {
    conformanceSandbox = await Sandbox.start({ fakes: [sendgridFake()] });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceSandbox.pluginConfigs().sendgrid,
  validJob: () => job('ann@example.com'),
  // SendGrid refuses an address without a dotted domain with a field error on the recipient.
  invalidAddressJob: () => job('ann@localhost'),
});

describe('sendgrid plugin through @sendgrid/mail against the sandbox', () => {
  let sandbox: Sandbox;
  let fake: SendgridFake;
  let sender: Sender<SendgridAppConfig>;
  let events: Server;
  const posted: string[] = [];
  const registry = new Registry();
  before(async () => {
    events = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posted.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => events.listen(0, '127.0.0.1', r));
    fake = sendgridFake({
      eventWebhookUrl: `http://127.0.0.1:${(events.address() as AddressInfo).port}/events`,
    });
    sandbox = await Sandbox.start({ fakes: [fake] });
    sender = await sendgridPlugin.createSender({
      config: sendgridPlugin.config.parse({
        ...sandbox.pluginConfigs().sendgrid,
        fromName: 'Clarion',
        timeoutMs: 500,
      }),
      log: silentLogger,
      metrics: sendgridMetrics(pluginMetricsFactory(registry, 'sendgrid')),
    });
  });
  after(async () => {
    await sender.close();
    await sandbox.stop();
    await new Promise<void>((r) => events.close(() => r()));
  });
  const send = (email: string, appConfig?: SendgridAppConfig, content?: MessageContent) =>
    sender.send(job(email, content), { appConfig, attempt: 1, log: silentLogger });
  const rule = (to: string, fail: string, extra?: OnceExtra) =>
    sandbox.behaviors.once('sendgrid', to, fail, extra);
  type Recorded = {
    subject: string;
    text: string;
    html: string;
    from: string;
    headers: Record<string, string>;
    customArgs: Record<string, string>;
    categories: string[];
  };
  const recorded = (to: string) =>
    sandbox.recorder.list({ provider: 'sendgrid', to }).at(-1)?.payload as Recorded;

  test('sends HTML + text, unsubscribe headers, the category and custom args carrying the delivery id', async () => {
    const delivery = job('ann@example.com');
    const result = await sender.send(delivery, { appConfig: undefined, attempt: 1, log: silentLogger });
    assert.ok((result.providerMessageId ?? '').length >= 16);
    const mail = recorded('ann@example.com');
    assert.equal(mail.text, 'Hi there');
    assert.equal(mail.html, '<p>Hi <b>there</b></p>');
    assert.deepEqual(mail.headers, UNSUBSCRIBE);
    assert.deepEqual(mail.categories, ['marketing']);
    assert.deepEqual(mail.customArgs, {
      deliveryId: delivery.deliveryId,
      notificationId: delivery.notificationId,
      appId: delivery.appId,
    });
    // The event webhook echoes the custom args, which is how events find their delivery.
    await waitFor('event post for the delivery', () => posted.find((p) => p.includes(delivery.deliveryId)));
  });

  test('derives the plain-text part from the HTML when the template has none', async () => {
    await send('text@example.com', undefined, {
      subject: 'S',
      html: '<h1>Welcome</h1><p>Read <a href="https://x.test/a">this</a>.</p>',
    });
    assert.match(recorded('text@example.com').text, /WELCOME[\s\S]*Read this \[https:\/\/x\.test\/a\]\./);
  });

  test('429 throttles until X-RateLimit-Reset; 5xx, timeouts and dropped connections retry', async () => {
    rule('r@example.com', 'rate_limit', { retryAfterSeconds: 3 });
    await assert.rejects(
      send('r@example.com'),
      (e: unknown) =>
        e instanceof RetryableError &&
        e.throttled &&
        (e.retryAfterMs ?? 0) > 1000 &&
        (e.retryAfterMs ?? 0) <= 3000,
    );
    rule('r@example.com', '503');
    await assert.rejects(
      send('r@example.com'),
      (e: unknown) => e instanceof RetryableError && !e.throttled && e.status === 503,
    );
    rule('r@example.com', '', { delayMs: 1500 });
    await assert.rejects(
      send('r@example.com'),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    rule('r@example.com', '', { drop: true });
    await assert.rejects(send('r@example.com'), (e: unknown) => e instanceof RetryableError);
    const limited = await registry.getSingleMetric('clarion_sendgrid_rate_limited_total')?.get();
    assert.equal(limited?.values[0]?.value, 1);
  });

  test('401/403 are configuration errors; other 400s permanent; a refused address is invalid', async () => {
    await assert.rejects(
      send('p@example.com', { apiKey: 'SG.revoked' }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.status === 401,
    );
    rule('p@example.com', '403');
    await assert.rejects(
      send('p@example.com'),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.status === 403,
    );
    rule('p@example.com', '400');
    await assert.rejects(
      send('p@example.com'),
      (e: unknown) => e instanceof PermanentError && !e.configuration && e.status === 400,
    );
    await assert.rejects(
      send('p@nodomain'),
      (e: unknown) => e instanceof InvalidAddressError && e.status === 400,
    );
    await assert.rejects(
      send('p@example.com', undefined, { subject: 'S', text: 'x', headers: { Subject: 'spoof' } }),
      (e: unknown) => e instanceof PermanentError && e.status === 400,
    );
  });

  test('e-mails sent together with the same content go as one request, each recipient with its own headers and custom args', async () => {
    const unsubscribe = (who: string) => ({
      ...UNSUBSCRIBE,
      'List-Unsubscribe': `<https://clarion.test/u/${who}>`,
    });
    const content = (who: string, subject = 'Sale'): MessageContent => ({
      subject,
      text: 'Everything 20 % off',
      headers: unsubscribe(who),
    });
    const jobs = [
      job('b1@example.com', content('b1')),
      job('b2@example.com', content('b2')),
      job('b3@example.com', content('b3')),
      job('b4@example.com', content('b4', 'Another subject')),
    ];
    const results = await Promise.all(
      jobs.map((j) => sender.send(j, { appConfig: undefined, attempt: 1, log: silentLogger })),
    );
    const ids = results.map((r) => r.providerMessageId);
    assert.equal(ids[0], ids[1], 'one request for the same mail');
    assert.equal(ids[1], ids[2]);
    assert.notEqual(ids[3], ids[0], 'another subject, another request');
    assert.deepEqual(
      results.map((r) => r.details?.recipients),
      [3, 3, 3, 1],
    );
    for (const [i, who] of ['b1', 'b2', 'b3', 'b4'].entries()) {
      const mail = recorded(`${who}@example.com`);
      assert.deepEqual(mail.headers, unsubscribe(who), `${who} has its own List-Unsubscribe`);
      assert.equal(mail.customArgs.deliveryId, jobs[i]!.deliveryId, `${who}'s events find its delivery`);
    }
  });

  test('bodies of the same length but other words are other mails: each recipient gets its own, mails interleaved still group', async () => {
    // Tracked links make each recipient's body differ at equal length; two campaigns may interleave.
    const body = (word: string): MessageContent => ({ subject: 'Same length', text: `Offer ${word}` });
    const order = ['aaaa', 'bbbb', 'aaaa', 'bbbb', 'cccc'];
    const results = await Promise.all(order.map((w, i) => send(`len${i}@example.com`, undefined, body(w))));
    const ids = results.map((r) => r.providerMessageId);
    assert.equal(ids[0], ids[2], 'the two aaaa mails share a request');
    assert.equal(ids[1], ids[3], 'the two bbbb mails share another');
    assert.equal(new Set(ids).size, 3, 'aaaa, bbbb and cccc: three requests');
    order.forEach((w, i) => {
      assert.equal(recorded(`len${i}@example.com`).text, `Offer ${w}`, `recipient ${i} got its own body`);
    });
  });

  test('a large group of identical mails is split into requests whose custom args stay under 10,000 bytes', async () => {
    const same: MessageContent = { subject: 'Many', text: 'Same for all' };
    const results = await Promise.all(
      Array.from({ length: 150 }, (_, i) => send(`many${i}@example.com`, undefined, same)),
    );
    const sizes = new Map(results.map((r) => [r.providerMessageId, Number(r.details?.recipients)]));
    assert.ok(sizes.size >= 3, `several requests (${sizes.size})`);
    assert.equal(
      [...sizes.values()].reduce((a, b) => a + b, 0),
      150,
      'every recipient in one of them',
    );
    assert.ok([...sizes.values()].every((n) => n < 100));
  });

  test('two deliveries to one address never share a request (SendGrid refuses an address twice)', async () => {
    const same: MessageContent = { subject: 'Twice', text: 'Same for both' };
    const [a, b] = await Promise.all([
      send('twice@example.com', undefined, same),
      send('twice@example.com', undefined, same),
    ]);
    assert.notEqual(a?.providerMessageId, b?.providerMessageId);
  });

  test('a refused address in a shared request fails that delivery alone; the others are sent', async () => {
    const same: MessageContent = { subject: 'Shared', text: 'Same for all' };
    const [good1, bad, good2] = await Promise.allSettled(
      ['g1@example.com', 'bad@nodomain', 'g2@example.com'].map((to) => send(to, undefined, same)),
    );
    assert.equal(good1?.status, 'fulfilled');
    assert.equal(good2?.status, 'fulfilled');
    assert.ok(bad?.status === 'rejected' && bad.reason instanceof InvalidAddressError);
    assert.equal(recorded('g1@example.com').subject, 'Shared');
    assert.equal(
      sandbox.recorder.list({ provider: 'sendgrid', to: 'g2@example.com', outcome: 'accepted' }).length,
      1,
      'sent once, by the request without the refused address',
    );
  });

  test('a failure of the shared request is every delivery’s (a 429 throttles all of them)', async () => {
    rule('t1@example.com', 'rate_limit', { retryAfterSeconds: 2 });
    const same: MessageContent = { subject: 'Throttled', text: 'x' };
    const outcomes = await Promise.allSettled(
      ['t1@example.com', 't2@example.com'].map((to) => send(to, undefined, same)),
    );
    for (const o of outcomes)
      assert.ok(o.status === 'rejected' && o.reason instanceof RetryableError && o.reason.throttled);
  });

  test('per-app key and sender replace the defaults', async () => {
    await send('app@example.com', { apiKey: SANDBOX_SENDGRID.apiKey, from: 'news@app.example' });
    assert.equal(recorded('app@example.com').from, 'news@app.example');
  });

  test('sends over kept-alive connections, shared by every API key', async () => {
    let connections = 0;
    const api = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(202, { 'x-message-id': 'kept-alive' }).end());
    });
    api.on('connection', () => connections++);
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const own = await sendgridPlugin.createSender({
      config: sendgridPlugin.config.parse({
        apiKey: 'SG.one',
        from: 'news@example.com',
        baseUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}/`,
      }),
      log: silentLogger,
      metrics: sendgridMetrics(pluginMetricsFactory(new Registry(), 'sendgrid')),
    });
    try {
      for (let i = 0; i < 20; i++) {
        const result = await own.send(job(`k${i}@example.com`), {
          appConfig: i % 2 ? { apiKey: 'SG.two' } : undefined,
          attempt: 1,
          log: silentLogger,
        });
        assert.equal(result.providerMessageId, 'kept-alive');
      }
      // Reused, not one per mail (undici may open a second while the first is being released).
      assert.ok(connections <= 2, `20 sends, two keys, ${connections} connections`);
    } finally {
      await own.close();
      await new Promise<void>((r) => api.close(() => r()));
    }
  });
});
