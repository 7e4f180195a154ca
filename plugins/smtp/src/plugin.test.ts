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
import { type OnceExtra, SANDBOX_SMTP, Sandbox, type SmtpFake, smtpFake } from '@clarion/sandbox';
import { Registry } from 'prom-client';
import { type SmtpAppConfig, smtpAppConfig } from './config';
import { smtpMetrics } from './metrics';
import smtpPlugin from './plugin';

const UNSUBSCRIBE = {
  'List-Unsubscribe': '<https://clarion.test/v1/unsubscribe/tok>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
};
const job = (
  email: string,
  content: MessageContent = { subject: 'Hello', html: '<p>Hi <b>there</b></p>', headers: UNSUBSCRIBE },
) =>
  makeJob({
    plugin: 'smtp',
    channel: 'email',
    address: { kind: 'email', contactId: 'c1', email, name: 'Ann' },
    content,
  });

let conformanceSandbox: Sandbox;
runConformanceSuite({
  plugin: smtpPlugin,
  setup: async () => {
    conformanceSandbox = await Sandbox.start({ fakes: [smtpFake()] });
    conformanceSandbox.behaviors.add({ provider: 'smtp', to: 'nobody@example.com', fail: '550' });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceSandbox.pluginConfigs().smtp,
  validJob: () => job('ann@example.com'),
  invalidAddressJob: () => job('nobody@example.com'),
});

describe('smtp plugin through nodemailer against a real SMTP server', () => {
  let sandbox: Sandbox;
  let fake: SmtpFake;
  let sender: Sender<SmtpAppConfig>;
  const registry = new Registry();
  before(async () => {
    fake = smtpFake();
    sandbox = await Sandbox.start({ fakes: [fake] });
    sender = await smtpPlugin.createSender({
      config: smtpPlugin.config.parse({
        ...sandbox.pluginConfigs().smtp,
        fromName: 'Clarion',
        timeoutMs: 1000,
      }),
      log: silentLogger,
      metrics: smtpMetrics(pluginMetricsFactory(registry, 'smtp')),
    });
  });
  after(async () => {
    await sender.close();
    await sandbox.stop();
  });
  const send = (email: string, appConfig?: SmtpAppConfig, content?: MessageContent) =>
    sender.send(job(email, content), { appConfig, attempt: 1, log: silentLogger });
  const rule = (to: string, fail: string, extra?: OnceExtra) =>
    sandbox.behaviors.once('smtp', to, fail, extra);
  type Parsed = {
    subject: string;
    text: string;
    html: string;
    from: string;
    headers: Record<string, string>;
  };
  const received = async (to: string) =>
    (await sandbox.recorder.waitFor(1, { provider: 'smtp', to, outcome: 'accepted' })).at(-1)!
      .payload as Parsed;

  test('delivers HTML with a derived text part and the unsubscribe headers, as the server parses them', async () => {
    const result = await send('ann@example.com');
    assert.match(result.providerMessageId ?? '', /^<.+@.+>$/);
    assert.match(String(result.details?.response), /^250 OK: queued as/);
    const mail = await received('ann@example.com');
    assert.equal(mail.subject, 'Hello');
    assert.equal(mail.text.trim(), 'Hi there');
    assert.equal(mail.html, '<p>Hi <b>there</b></p>');
    assert.equal(mail.from, 'clarion@sandbox.test');
    assert.equal(mail.headers['list-unsubscribe'], '<https://clarion.test/v1/unsubscribe/tok>');
    assert.equal(mail.headers['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
  });

  test('the pool reuses its connections: 40 messages over at most 5 connections', async () => {
    const before = fake.stats();
    await Promise.all(Array.from({ length: 40 }, (_, i) => send(`pool${i}@example.com`)));
    const after = fake.stats();
    assert.equal(after.messages - before.messages, 40);
    assert.ok(
      after.connections - before.connections <= 5,
      `opened ${after.connections - before.connections} connections`,
    );
    for (let i = 0; i < 10; i++) await send(`seq${i}@example.com`);
    assert.ok(
      fake.stats().connections - before.connections <= 5,
      'sequential sends opened no new connections',
    );
  });

  test('a recipient refused with 550 is an invalid address and counted', async () => {
    rule('gone@example.com', '550');
    await assert.rejects(
      send('gone@example.com'),
      (e: unknown) => e instanceof InvalidAddressError && e.status === 550,
    );
    const rejected = await registry.getSingleMetric('clarion_smtp_rejected_recipients_total')?.get();
    assert.equal(rejected?.values[0]?.value, 1);
  });

  test('421, 451 and a 4xx after DATA retry; a 5xx after DATA is permanent', async () => {
    rule('t@example.com', '451');
    await assert.rejects(
      send('t@example.com'),
      (e: unknown) => e instanceof RetryableError && e.status === 451,
    );
    // 421 closes the connection; the pool reports it as a closed connection (ECONNECTION) or the 421 itself.
    rule('t@example.com', '421');
    await assert.rejects(
      send('t@example.com'),
      (e: unknown) => e instanceof RetryableError && (e.status === 421 || e.code === 'ECONNECTION'),
    );
    rule('t@example.com', 'data:451');
    await assert.rejects(
      send('t@example.com'),
      (e: unknown) => e instanceof RetryableError && e.status === 451,
    );
    rule('t@example.com', 'data:554');
    await assert.rejects(
      send('t@example.com'),
      (e: unknown) => e instanceof PermanentError && !e.configuration && e.status === 554,
    );
    // The pool recovers from the closed connection.
    await send('t@example.com');
  });

  test('a dropped connection is retryable and the pool recovers', async () => {
    rule('drop@example.com', '', { drop: true });
    await assert.rejects(send('drop@example.com'), (e: unknown) => e instanceof RetryableError);
    await send('after-drop@example.com');
  });

  test('wrong credentials (per-app server settings) are a configuration error', async () => {
    const app = smtpAppConfig.parse({
      host: '127.0.0.1',
      port: fake.port(),
      user: SANDBOX_SMTP.user,
      pass: 'wrong',
      from: 'app@example.com',
    });
    await assert.rejects(
      send('x@example.com', app),
      (e: unknown) => e instanceof PermanentError && e.configuration,
    );
  });

  test('per-app server and sender', async () => {
    const app = smtpAppConfig.parse({
      host: '127.0.0.1',
      port: String(fake.port()),
      user: SANDBOX_SMTP.user,
      pass: SANDBOX_SMTP.pass,
      from: 'news@app.example',
      secure: 'false',
    });
    await send('appuser@example.com', app);
    assert.equal((await received('appuser@example.com')).from, 'news@app.example');
  });
});

describe('smtp plugin over STARTTLS', () => {
  let sandbox: Sandbox;
  let fake: SmtpFake;
  before(async () => {
    fake = smtpFake({ startTls: true, requireTls: true });
    sandbox = await Sandbox.start({ fakes: [fake] });
  });
  after(() => sandbox.stop());

  test('upgrades with STARTTLS, verifying the server certificate against the configured CA', async () => {
    const config = smtpPlugin.config.parse({
      ...sandbox.pluginConfigs().smtp,
      rejectUnauthorized: 'true',
      ca: fake.certificate(),
      requireTls: 'true',
      host: 'localhost',
    });
    const sender = await smtpPlugin.createSender({
      config,
      log: silentLogger,
      metrics: smtpMetrics(pluginMetricsFactory(new Registry(), 'smtp')),
    });
    try {
      await sender.send(job('tls@example.com'), { appConfig: undefined, attempt: 1, log: silentLogger });
      assert.equal(fake.stats().tlsConnections, 1);
    } finally {
      await sender.close();
    }
  });

  test('a server certificate that is not trusted is a configuration error', async () => {
    const config = smtpPlugin.config.parse({
      ...sandbox.pluginConfigs().smtp,
      rejectUnauthorized: 'true',
      requireTls: 'true',
    });
    const sender = await smtpPlugin.createSender({
      config,
      log: silentLogger,
      metrics: smtpMetrics(pluginMetricsFactory(new Registry(), 'smtp')),
    });
    try {
      await assert.rejects(
        sender.send(job('tls@example.com'), { appConfig: undefined, attempt: 1, log: silentLogger }),
        (e: unknown) => e instanceof PermanentError && e.configuration,
      );
    } finally {
      await sender.close();
    }
  });
});
