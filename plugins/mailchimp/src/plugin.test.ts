import assert from 'node:assert/strict';
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
import { mailchimpFake, type OnceExtra, SANDBOX_MAILCHIMP, Sandbox } from '@clarion/sandbox';
import { Registry } from 'prom-client';
import type { MailchimpAppConfig } from './config';
import { mailchimpMetrics } from './metrics';
import mailchimpPlugin from './plugin';

const UNSUBSCRIBE = {
  'List-Unsubscribe': '<https://clarion.test/v1/unsubscribe/tok>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
};
const job = (
  email: string,
  content: MessageContent = { subject: 'Hello', html: '<p>Hi <b>there</b></p>', headers: UNSUBSCRIBE },
) =>
  makeJob({
    plugin: 'mailchimp',
    channel: 'email',
    address: { kind: 'email', contactId: 'c1', email },
    content,
    category: 'billing',
  });

let conformanceSandbox: Sandbox;
runConformanceSuite({
  plugin: mailchimpPlugin,
  setup: async () => {
    conformanceSandbox = await Sandbox.start({ fakes: [mailchimpFake()] });
    conformanceSandbox.behaviors.add({
      provider: 'mailchimp',
      to: 'bounced@example.com',
      fail: 'hard-bounce',
    });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceSandbox.pluginConfigs().mailchimp,
  validJob: () => job('ann@example.com'),
  invalidAddressJob: () => job('bounced@example.com'),
});

describe('mailchimp plugin through @mailchimp/mailchimp_transactional against the sandbox', () => {
  let sandbox: Sandbox;
  let sender: Sender<MailchimpAppConfig>;
  const registry = new Registry();
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [mailchimpFake()] });
    sender = await mailchimpPlugin.createSender({
      config: mailchimpPlugin.config.parse({
        ...sandbox.pluginConfigs().mailchimp,
        replyTo: 'help@example.com',
        timeoutMs: 500,
      }),
      log: silentLogger,
      metrics: mailchimpMetrics(pluginMetricsFactory(registry, 'mailchimp')),
    });
  });
  after(async () => {
    await sender.close();
    await sandbox.stop();
  });
  const send = (email: string, appConfig?: MailchimpAppConfig) =>
    sender.send(job(email), { appConfig, attempt: 1, log: silentLogger });
  const rule = (to: string, fail: string, extra?: OnceExtra) =>
    sandbox.behaviors.once('mailchimp', to, fail, extra);
  type Recorded = {
    text: string;
    html: string;
    from: string;
    headers: Record<string, string>;
    tags: string[];
    metadata: Record<string, string>;
  };
  const recorded = (to: string) =>
    sandbox.recorder.list({ provider: 'mailchimp', to }).at(-1)?.payload as Recorded;

  test('sends HTML with a derived text part, unsubscribe and reply-to headers, tag and delivery metadata', async () => {
    const delivery = job('ann@example.com');
    const result = await sender.send(delivery, { appConfig: undefined, attempt: 1, log: silentLogger });
    assert.match(result.providerMessageId ?? '', /^[0-9a-f]{32}$/);
    assert.deepEqual(result.details, { status: 'sent' });
    const mail = recorded('ann@example.com');
    assert.equal(mail.text, 'Hi there');
    assert.deepEqual(mail.headers, { ...UNSUBSCRIBE, 'Reply-To': 'help@example.com' });
    assert.deepEqual(mail.tags, ['billing']);
    assert.equal(mail.metadata.deliveryId, delivery.deliveryId);
  });

  test('recipient statuses: hard-bounce and invalid → invalid address; unsub and spam → opted out; soft-bounce → retry; queued → sent', async () => {
    rule('a@example.com', 'hard-bounce');
    await assert.rejects(
      send('a@example.com'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'invalid' && e.code === 'hard-bounce',
    );
    rule('a@example.com', 'invalid');
    await assert.rejects(
      send('a@example.com'),
      (e: unknown) => e instanceof InvalidAddressError && e.code === 'invalid',
    );
    rule('a@example.com', 'unsub');
    await assert.rejects(
      send('a@example.com'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'opted_out',
    );
    rule('a@example.com', 'spam');
    await assert.rejects(
      send('a@example.com'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'opted_out',
    );
    rule('a@example.com', 'soft-bounce');
    await assert.rejects(send('a@example.com'), (e: unknown) => e instanceof RetryableError);
    rule('a@example.com', 'invalid-sender');
    await assert.rejects(
      send('a@example.com'),
      (e: unknown) => e instanceof PermanentError && e.configuration,
    );
    rule('a@example.com', 'queued');
    assert.equal((await send('a@example.com')).details?.status, 'queued');
    const statuses = await registry.getSingleMetric('clarion_mailchimp_recipient_status_total')?.get();
    assert.ok(statuses?.values.some((v) => v.labels.status === 'rejected' && v.labels.reason === 'unsub'));
  });

  test('request errors come back resolved, not thrown, and are still classified', async () => {
    await assert.rejects(
      send('b@example.com', { apiKey: 'md-wrong' }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'Invalid_Key',
    );
    rule('b@example.com', 'PaymentRequired');
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof PermanentError && e.configuration,
    );
    rule('b@example.com', 'ValidationError');
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof PermanentError && !e.configuration,
    );
    rule('b@example.com', 'GeneralError');
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof RetryableError && e.code === 'GeneralError',
    );
    rule('b@example.com', 'rate_limit', { retryAfterSeconds: 2 });
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof RetryableError && e.throttled && e.retryAfterMs === 2000,
    );
    rule('b@example.com', '502');
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof RetryableError && e.status === 502,
    );
    rule('b@example.com', '', { delayMs: 1500 });
    await assert.rejects(
      send('b@example.com'),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    rule('b@example.com', '', { drop: true });
    await assert.rejects(send('b@example.com'), (e: unknown) => e instanceof RetryableError);
  });

  test('per-app key and sender', async () => {
    await send('app@example.com', { apiKey: SANDBOX_MAILCHIMP.apiKey, from: 'news@app.example' });
    assert.equal(recorded('app@example.com').from, 'news@app.example');
  });
});
