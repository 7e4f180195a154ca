import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  InvalidAddressError,
  PermanentError,
  pluginMetricsFactory,
  RetryableError,
  type Sender,
  silentLogger,
} from '@clarion/plugin-sdk';
import { makeJob, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { type OnceExtra, SANDBOX_TWILIO, Sandbox, type TwilioFake, twilioFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { Registry } from 'prom-client';
import twilio from 'twilio';
import type { TwilioAppConfig } from './config';
import { twilioMetrics } from './metrics';
import twilioPlugin from './plugin';

const DEAD = '+14155550199';
const job = (phone: string, text = 'Your code is 123456') =>
  makeJob({
    plugin: 'twilio',
    channel: 'sms',
    address: { kind: 'phone', contactId: 'c1', phone },
    content: { text },
  });

let conformanceSandbox: Sandbox;
runConformanceSuite({
  plugin: twilioPlugin,
  setup: async () => {
    conformanceSandbox = await Sandbox.start({ fakes: [twilioFake()] });
    conformanceSandbox.behaviors.add({ provider: 'twilio', to: DEAD, fail: '21211' });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceSandbox.pluginConfigs().twilio,
  validJob: () => job('+14155550100'),
  invalidAddressJob: () => job(DEAD),
});

describe('twilio plugin through twilio-node against the sandbox', () => {
  let sandbox: Sandbox;
  let fake: TwilioFake;
  let sender: Sender<TwilioAppConfig>;
  let callbacks: Server;
  let callbackUrl = '';
  const registry = new Registry();
  const received: { signature: string; params: Record<string, string>; path: string }[] = [];

  before(async () => {
    fake = twilioFake();
    sandbox = await Sandbox.start({ fakes: [fake] });
    callbacks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({
          signature: String(req.headers['x-twilio-signature']),
          params: Object.fromEntries(new URLSearchParams(body)),
          path: req.url ?? '',
        });
        res.end();
      });
    });
    await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}/v1/callbacks/twilio`;
    sender = await twilioPlugin.createSender({
      config: twilioPlugin.config.parse({
        ...sandbox.pluginConfigs().twilio,
        statusCallbackUrl: callbackUrl,
        timeoutMs: 500,
      }),
      log: silentLogger,
      metrics: twilioMetrics(pluginMetricsFactory(registry, 'twilio')),
    });
  });
  after(async () => {
    await sender.close();
    await sandbox.stop();
    await new Promise<void>((r) => callbacks.close(() => r()));
  });

  const send = (phone: string, text?: string, appConfig?: TwilioAppConfig) =>
    sender.send(job(phone, text), { appConfig, attempt: 1, log: silentLogger });
  const rule = (to: string, fail: string, extra?: OnceExtra) =>
    sandbox.behaviors.once('twilio', to, fail, extra);

  test('sends the text and reports the SMS sid, segments and encoding', async () => {
    const result = await send('+14155550100', 'Votre code: 123456 — merci 😀');
    assert.match(result.providerMessageId ?? '', /^SM[0-9a-f]{32}$/);
    assert.deepEqual(
      {
        segments: result.details?.segments,
        encoding: result.details?.encoding,
        twilio: result.details?.twilioSegments,
      },
      { segments: 1, encoding: 'UCS-2', twilio: 1 },
    );
    const [rec] = sandbox.recorder.list({ provider: 'twilio', to: '+14155550100' });
    assert.equal((rec?.payload as { text: string } | undefined)?.text, 'Votre code: 123456 — merci 😀');
    assert.equal((rec?.payload as { from: string } | undefined)?.from, SANDBOX_TWILIO.from);
    const long = await send('+14155550100', 'a'.repeat(161));
    assert.equal(long.details?.segments, 2);
  });

  test('the status callback goes to Clarion, signed so that twilio.validateRequest accepts it', async () => {
    const sent = job('+14155550101');
    const result = await sender.send(sent, { appConfig: undefined, attempt: 1, log: silentLogger });
    const posts = await waitFor('two status callbacks', () => {
      const mine = received.filter((r) => r.params.MessageSid === result.providerMessageId);
      return mine.length >= 2 ? mine : undefined;
    });
    assert.deepEqual(
      posts.map((p) => p.params.MessageStatus),
      ['sent', 'delivered'],
    );
    // The delivery id rides on the callback URL (signed with it), so Clarion finds the delivery even before its own "sent" is written.
    for (const p of posts) {
      const url = new URL(p.path, callbackUrl).toString();
      assert.equal(new URL(url).searchParams.get('clarionDelivery'), sent.deliveryId);
      assert.equal(twilio.validateRequest(SANDBOX_TWILIO.authToken, p.signature, url, p.params), true);
    }
  });

  test('21211 and 21614 are invalid addresses; 21610 (STOP) is opted out', async () => {
    rule('+14155550102', '21211');
    await assert.rejects(
      send('+14155550102'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'invalid' && e.code === '21211',
    );
    rule('+14155550103', 'rfc9457:21614'); // RFC 9457 answer → TwilioServiceException
    await assert.rejects(
      send('+14155550103'),
      (e: unknown) => e instanceof InvalidAddressError && e.code === '21614',
    );
    rule('+14155550104', '21610');
    await assert.rejects(
      send('+14155550104'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'opted_out' && e.status === 400,
    );
    assert.equal(
      (await registry.getSingleMetric('clarion_twilio_opt_outs_total')?.get())?.values[0]?.value,
      1,
    );
  });

  test('a number that is not E.164 never reaches Twilio', async () => {
    const before = sandbox.recorder.count({ provider: 'twilio' });
    await assert.rejects(
      send('0044 7700 900123'),
      (e: unknown) => e instanceof InvalidAddressError && e.code === 'not_e164',
    );
    assert.equal(sandbox.recorder.count({ provider: 'twilio' }), before);
  });

  test('429/20429 throttles the queue with Retry-After; 5xx, timeouts and dropped connections retry', async () => {
    rule('+14155550105', 'rate_limit', { retryAfterSeconds: 4 });
    await assert.rejects(
      send('+14155550105'),
      (e: unknown) =>
        e instanceof RetryableError && e.throttled && e.retryAfterMs === 4000 && e.code === '20429',
    );
    rule('+14155550106', '20500');
    await assert.rejects(
      send('+14155550106'),
      (e: unknown) => e instanceof RetryableError && !e.throttled && e.status === 500,
    );
    rule('+14155550106', '503');
    await assert.rejects(
      send('+14155550106'),
      (e: unknown) => e instanceof RetryableError && e.status === 503,
    );
    rule('+14155550107', '', { delayMs: 1500 });
    await assert.rejects(
      send('+14155550107'),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    rule('+14155550108', '', { drop: true });
    await assert.rejects(send('+14155550108'), (e: unknown) => e instanceof RetryableError);
  });

  test('bad credentials (20003) are a configuration error', async () => {
    const wrong = {
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: 'not-the-token',
      from: SANDBOX_TWILIO.from,
    };
    await assert.rejects(
      send('+14155550109', 'hi', wrong),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === '20003',
    );
  });

  test("per-app credentials: an app's API key and Messaging Service replace the defaults", async () => {
    const app: TwilioAppConfig = {
      accountSid: SANDBOX_TWILIO.accountSid,
      apiKeySid: SANDBOX_TWILIO.apiKeySid,
      apiKeySecret: SANDBOX_TWILIO.apiKeySecret,
      messagingServiceSid: `MG${'a'.repeat(32)}`,
    };
    const result = await send('+14155550110', 'from the app', app);
    assert.equal(result.details?.status, 'accepted');
    const [rec] = sandbox.recorder.list({ provider: 'twilio', to: '+14155550110' });
    assert.deepEqual(rec?.payload, {
      text: 'from the app',
      from: null,
      messagingServiceSid: `MG${'a'.repeat(32)}`,
      mediaUrls: [],
      segments: 1,
      statusCallback: null,
    });
  });

  test('config schema: needs a token or an API key, and a sender', () => {
    const base = { accountSid: SANDBOX_TWILIO.accountSid };
    assert.equal(twilioPlugin.config.safeParse({ ...base, from: '+15005550006' }).success, false);
    assert.equal(twilioPlugin.config.safeParse({ ...base, authToken: 't' }).success, false);
    assert.equal(twilioPlugin.config.safeParse({ ...base, authToken: 't', from: 'Clarion' }).success, true);
    assert.equal(twilioPlugin.config.safeParse({ ...base, authToken: 't', from: '555-1234' }).success, false);
  });
});
