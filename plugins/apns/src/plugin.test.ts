import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type DeliveryJob,
  deliveryJobOptions,
  InvalidAddressError,
  PermanentError,
  PluginRuntime,
  pluginMetricsFactory,
  pluginQueueName,
  RetryableError,
  type Sender,
  silentLogger,
} from '@clarion/plugin-sdk';
import { makeJob, RecordingReporter, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { type ApnsFake, apnsFake, apnsTestCertificate, apnsTestKey, Sandbox } from '@clarion/sandbox';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { ApnsAppConfig } from './config';
import apnsPlugin from './plugin';

const token = () => randomBytes(32).toString('hex');
const iosJob = (t: string, partial: Partial<DeliveryJob> = {}) =>
  makeJob({
    plugin: 'apns',
    channel: 'push',
    address: { kind: 'device', contactId: 'c1', platform: 'ios', token: t },
    ...partial,
  });

let conformanceSandbox: Sandbox;
let conformanceFake: ApnsFake;
runConformanceSuite({
  plugin: apnsPlugin,
  setup: async () => {
    conformanceFake = apnsFake();
    conformanceSandbox = await Sandbox.start({ fakes: [conformanceFake] });
    conformanceSandbox.behaviors.add({ provider: 'apns', to: 'dead'.repeat(16), fail: 'Unregistered' });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceFake.pluginConfig!(),
  validJob: () => iosJob(token()),
  invalidAddressJob: () => iosJob('dead'.repeat(16)),
});

describe('apns plugin through @parse/node-apn to the sandbox APNs', () => {
  let sb: Sandbox;
  let fake: ApnsFake;
  let sender: Sender<ApnsAppConfig>;
  const registry = new Registry();
  const appB = apnsTestKey('APPBKEY001', 'APPBTEAM01');

  before(async () => {
    fake = apnsFake({
      keys: [
        { keyId: appB.keyId, teamId: appB.teamId, publicKey: appB.publicKeyPem, topics: ['com.example.b'] },
      ],
    });
    sb = await Sandbox.start({ fakes: [fake] });
    sender = await apnsPlugin.createSender({
      config: apnsPlugin.config.parse({ ...fake.pluginConfig!(), requestTimeoutMs: 400 }),
      log: silentLogger,
      metrics: apnsPlugin.metrics!(pluginMetricsFactory(registry, 'apns')),
    });
  });
  after(async () => {
    await sender.close();
    await sb.stop();
  });
  const send = (job: DeliveryJob, appConfig?: ApnsAppConfig) =>
    sender.send(job, { appConfig, attempt: 1, log: silentLogger });
  const metric = async (name: string) =>
    (await registry.getMetricsAsJSON())
      .find((m) => m.name === name)
      ?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

  test('maps every notification field onto the APNs request the fake verified', async () => {
    const t = token();
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const job = iosJob(t, {
      priority: 'high',
      expiresAt,
      collapseKey: 'order-42',
      content: {
        title: 'Order shipped',
        body: 'Your parcel is on its way',
        badge: 2,
        sound: 'chime.caf',
        actionCategory: 'ORDER',
        threadId: 'orders',
        mutableContent: true,
        data: { orderId: '42' },
      },
    });
    const result = await send(job);
    assert.equal(result.providerMessageId, job.deliveryId);
    const [rec] = sb.recorder.list({ provider: 'apns', to: t });
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.channel, 'push');
    const p = rec?.payload as Record<string, unknown>;
    assert.equal(p.title, 'Order shipped');
    assert.equal(p.body, 'Your parcel is on its way');
    assert.equal(p.badge, 2);
    assert.equal(p.sound, 'chime.caf');
    assert.equal(p.category, 'ORDER');
    assert.equal(p.threadId, 'orders');
    assert.equal(p.mutableContent, true);
    assert.equal((p.data as Record<string, string>).orderId, '42');
    assert.equal(rec?.headers?.['apns-push-type'], 'alert');
    assert.equal(rec?.headers?.['apns-priority'], '10');
    assert.equal(rec?.headers?.['apns-collapse-id'], 'order-42');
    assert.equal(rec?.headers?.['apns-expiration'], String(Math.floor(Date.parse(expiresAt) / 1000)));
    assert.equal(rec?.headers?.['apns-topic'], 'com.clarion.sandbox');
  });

  test('a background push goes with priority 5 and content-available', async () => {
    const t = token();
    await send(iosJob(t, { pushType: 'background', priority: 'high', content: { data: { sync: '1' } } }));
    const [rec] = sb.recorder.list({ to: t });
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.headers?.['apns-push-type'], 'background');
    assert.equal(rec?.headers?.['apns-priority'], '5');
    assert.equal((rec?.payload as { contentAvailable: boolean } | undefined)?.contentAvailable, true);
  });

  test("Unregistered (410) is an invalid address, with Apple's timestamp as invalidSince", async () => {
    const t = token();
    sb.behaviors.add({ provider: 'apns', to: t, fail: 'Unregistered' });
    const before = Date.now();
    await assert.rejects(send(iosJob(t)), (e: unknown) => {
      assert.ok(e instanceof InvalidAddressError);
      assert.equal(e.reason, 'unregistered');
      assert.equal(e.status, 410);
      assert.ok(e.invalidSince && e.invalidSince.getTime() >= before - 1000);
      return true;
    });
  });

  test('BadDeviceToken and DeviceTokenNotForTopic are invalid addresses', async () => {
    await assert.rejects(
      send(iosJob('0123')),
      (e: unknown) => e instanceof InvalidAddressError && e.code === 'BadDeviceToken',
    );
    const t = token();
    sb.behaviors.add({ provider: 'apns', to: t, fail: 'DeviceTokenNotForTopic' });
    await assert.rejects(
      send(iosJob(t)),
      (e: unknown) => e instanceof InvalidAddressError && e.code === 'DeviceTokenNotForTopic',
    );
    assert.ok((await metric('clarion_apns_invalid_tokens_total')) >= 3);
  });

  test('TooManyRequests, 500, 503, a dropped connection and a slow answer are retryable', async () => {
    for (const fail of ['TooManyRequests', 'InternalServerError', 'ServiceUnavailable']) {
      const t = token();
      sb.behaviors.add({ provider: 'apns', to: t, fail, times: 1 });
      await assert.rejects(
        send(iosJob(t)),
        (e: unknown) => e instanceof RetryableError && e.code === fail,
        fail,
      );
      await send(iosJob(t)); // the library did not retry on its own: the rule was used once
    }
    const dropped = token();
    sb.behaviors.add({ provider: 'apns', to: dropped, drop: true, times: 1 });
    await assert.rejects(
      send(iosJob(dropped)),
      (e: unknown) => e instanceof RetryableError && e.code === 'connection',
    );
    const slow = token();
    sb.behaviors.add({ provider: 'apns', to: slow, delayMs: 800, times: 1 });
    await assert.rejects(
      send(iosJob(slow)),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    await send(iosJob(token())); // the pool reconnects after the dropped session
  });

  test('ExpiredProviderToken: the JWT is re-signed and the retry succeeds', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'apns', to: t, fail: 'ExpiredProviderToken', times: 1 });
    await assert.rejects(
      send(iosJob(t)),
      (e: unknown) => e instanceof RetryableError && e.code === 'ExpiredProviderToken',
    );
    assert.equal(await metric('clarion_apns_token_refreshes_total'), 1);
    await send(iosJob(t));
    assert.equal(sb.recorder.list({ to: t }).at(-1)?.outcome, 'accepted');
  });

  test('configuration errors are permanent and flagged as configuration', async () => {
    await assert.rejects(
      send(iosJob(token()), { topic: 'com.not.ours' }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'TopicDisallowed',
    );
    const stranger = apnsTestKey('UNKNOWN001', 'SANDBOXT01');
    await assert.rejects(
      send(iosJob(token()), {
        keyId: stranger.keyId,
        teamId: stranger.teamId,
        signingKey: stranger.privateKeyPem,
      }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'InvalidProviderToken',
    );
    // Right key id, wrong private key: the signature does not verify.
    await assert.rejects(
      send(iosJob(token()), {
        keyId: 'APPBKEY001',
        teamId: 'APPBTEAM01',
        signingKey: stranger.privateKeyPem,
        topic: 'com.example.b',
      }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'InvalidProviderToken',
    );
  });

  test('a payload over 4 KB is refused before anything is sent', async () => {
    const t = token();
    await assert.rejects(
      send(iosJob(t, { content: { title: 'big', body: 'x'.repeat(5000) } })),
      (e: unknown) => e instanceof PermanentError && e.code === 'PayloadTooLarge' && !e.configuration,
    );
    assert.equal(sb.recorder.count({ to: t }), 0);
  });

  test('two apps with their own keys, teams and topics: each verified by the fake', async () => {
    const a = token();
    const b = token();
    await send(iosJob(a));
    await send(iosJob(b), {
      keyId: appB.keyId,
      teamId: appB.teamId,
      signingKey: appB.privateKeyPem,
      topic: 'com.example.b',
    });
    assert.equal(sb.recorder.list({ to: a })[0]?.headers?.['apns-topic'], 'com.clarion.sandbox');
    assert.equal(sb.recorder.list({ to: b })[0]?.headers?.['apns-topic'], 'com.example.b');
    assert.equal(sb.recorder.list({ to: b })[0]?.outcome, 'accepted');
  });

  test('certificate auth: the fake accepts a registered client certificate for its topic', async () => {
    const pems = await apnsTestCertificate('com.example.cert');
    fake.addCertificate({ certPem: pems.certPem, topics: ['com.example.cert'] });
    const t = token();
    await send(iosJob(t), { certificate: pems.certPem, privateKey: pems.keyPem, topic: 'com.example.cert' });
    assert.equal(sb.recorder.list({ to: t })[0]?.outcome, 'accepted');
    const other = await apnsTestCertificate('com.example.cert');
    await assert.rejects(
      send(iosJob(token()), {
        certificate: other.certPem,
        privateKey: other.keyPem,
        topic: 'com.example.cert',
      }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'BadCertificate',
    );
  });

  test('one HTTP/2 connection per credential, reused across many concurrent sends', async () => {
    const s = await apnsPlugin.createSender({
      config: apnsPlugin.config.parse(fake.pluginConfig!()),
      log: silentLogger,
      metrics: apnsPlugin.metrics!(pluginMetricsFactory(new Registry(), 'apns')),
    });
    fake.resetConnections();
    try {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          s.send(iosJob(token()), { appConfig: undefined, attempt: 1, log: silentLogger }),
        ),
      );
      for (let i = 0; i < 50; i += 1)
        await s.send(iosJob(token()), { appConfig: undefined, attempt: 1, log: silentLogger });
      assert.equal(fake.connections(), 1);
    } finally {
      await s.close();
    }
  });
});

describe('apns plugin as a BullMQ worker', () => {
  let sb: Sandbox;
  let fake: ApnsFake;
  const connection = testRedis();
  const prefix = testPrefix('apns');
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    fake = apnsFake();
    sb = await Sandbox.start({ fakes: [fake] });
    runtime = await PluginRuntime.start({
      plugin: apnsPlugin,
      config: apnsPlugin.config.parse(fake.pluginConfig!()),
      connection,
      prefix,
      registry: new Registry(),
      reporter,
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
    queue = new Queue(pluginQueueName('apns'), { connection, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(connection, prefix);
    connection.disconnect();
    await sb.stop();
  });
  const enqueue = (job: DeliveryJob) =>
    queue.add('deliver', job, deliveryJobOptions(job, apnsPlugin.processor));

  test('503 twice, then success: retried with backoff and reported sent', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'apns', to: t, fail: 'ServiceUnavailable', times: 2 });
    const job = iosJob(t);
    await enqueue(job);
    const final = await waitFor('sent', () => reporter.final(job.deliveryId));
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
    assert.equal(
      reporter.outcomes.filter((o) => o.job.deliveryId === job.deliveryId && o.type === 'retrying').length,
      2,
    );
    assert.equal(sb.recorder.count({ to: t }), 3);
  });

  test('Unregistered fails the delivery as invalid_address with invalidSince (the core disables the device)', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'apns', to: t, fail: 'Unregistered' });
    const job = iosJob(t);
    await enqueue(job);
    const final = await waitFor('failed', () => reporter.final(job.deliveryId));
    assert.equal(final.type, 'failed');
    if (final.type !== 'failed') return;
    assert.equal(final.reason, 'invalid_address');
    assert.equal(final.error.addressReason, 'unregistered');
    assert.ok(final.error.invalidSince);
    assert.equal(final.attempt, 1);
  });

  test('a configuration error fails at once and marks the plugin unhealthy until a send succeeds', async () => {
    sb.behaviors.add({ provider: 'apns', to: '*', fail: 'InvalidProviderToken', times: 1 });
    const job = iosJob(token());
    await enqueue(job);
    const final = await waitFor('failed', () => reporter.final(job.deliveryId));
    assert.equal(final.type === 'failed' && final.reason, 'configuration');
    assert.equal(runtime.getHealth().healthy, false);
    const ok = iosJob(token());
    await enqueue(ok);
    await waitFor('sent', () => reporter.final(ok.deliveryId));
    assert.equal(runtime.getHealth().healthy, true);
  });
});
