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
import { type FcmFake, fcmFake, fcmTestServiceAccount, Sandbox } from '@clarion/sandbox';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { FcmAppConfig } from './config';
import fcmPlugin from './plugin';

/** Shaped like a real registration token: instance id, colon, APA91b… */
const token = () =>
  `${randomBytes(11).toString('base64url')}:APA91b${randomBytes(100).toString('base64url')}`;
const androidJob = (t: string, partial: Partial<DeliveryJob> = {}) =>
  makeJob({
    plugin: 'fcm',
    channel: 'push',
    address: { kind: 'device', contactId: 'c1', platform: 'android', token: t },
    ...partial,
  });

let conformanceSandbox: Sandbox;
let conformanceFake: FcmFake;
const deadToken = token();
runConformanceSuite({
  plugin: fcmPlugin,
  setup: async () => {
    conformanceFake = fcmFake();
    conformanceSandbox = await Sandbox.start({ fakes: [conformanceFake] });
    conformanceSandbox.behaviors.add({ provider: 'fcm', to: deadToken, fail: 'UNREGISTERED' });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceFake.pluginConfig!(),
  validJob: () => androidJob(token()),
  invalidAddressJob: () => androidJob(deadToken),
});

describe('fcm plugin (HTTP v1 + google-auth-library) against the sandbox FCM', () => {
  let sb: Sandbox;
  let fake: FcmFake;
  let sender: Sender<FcmAppConfig>;
  const registry = new Registry();
  const appB = fcmTestServiceAccount('app-b-project');

  before(async () => {
    fake = fcmFake({
      accounts: [
        { projectId: 'app-b-project', clientEmail: appB.json.client_email, publicKeyPem: appB.publicKeyPem },
      ],
    });
    sb = await Sandbox.start({ fakes: [fake] });
    sender = await fcmPlugin.createSender({
      config: fcmPlugin.config.parse({ ...fake.pluginConfig!(), timeoutMs: 400 }),
      log: silentLogger,
      metrics: fcmPlugin.metrics!(pluginMetricsFactory(registry, 'fcm')),
    });
  });
  after(async () => {
    await sender.close();
    await sb.stop();
  });
  const send = (job: DeliveryJob, appConfig?: FcmAppConfig, attempt = 1) =>
    sender.send(job, { appConfig, attempt, log: silentLogger });
  const metric = async (name: string) =>
    (await registry.getMetricsAsJSON())
      .find((m) => m.name === name)
      ?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

  test('maps notification, data, priority, ttl, collapse key, channel id and image', async () => {
    const t = token();
    const result = await send(
      androidJob(t, {
        priority: 'high',
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
        collapseKey: 'score',
        content: {
          title: 'Goal!',
          body: '2-1',
          image: 'https://cdn.example/goal.png',
          androidChannelId: 'sports',
          badge: 3,
          data: { matchId: '7' },
          url: 'https://example/m/7',
        },
      }),
    );
    assert.match(result.providerMessageId ?? '', /^projects\/clarion-sandbox\/messages\//);
    const [rec] = sb.recorder.list({ provider: 'fcm', to: t });
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.channel, 'push');
    const p = rec?.payload as {
      title: string;
      body: string;
      image: string;
      data: Record<string, string>;
      android: Record<string, unknown>;
    };
    assert.equal(p.title, 'Goal!');
    assert.equal(p.body, '2-1');
    assert.equal(p.image, 'https://cdn.example/goal.png');
    assert.deepEqual(p.data, { matchId: '7', url: 'https://example/m/7' });
    assert.equal(p.android.priority, 'HIGH');
    assert.equal(p.android.collapse_key, 'score');
    assert.match(String(p.android.ttl), /^(599|600)s$/);
    assert.deepEqual(p.android.notification, { channel_id: 'sports', notification_count: 3, tag: 'score' });
  });

  test('a background push is a data-only message with NORMAL priority', async () => {
    const t = token();
    await send(androidJob(t, { pushType: 'background', content: { data: { sync: 'inbox' } } }));
    const p = sb.recorder.list({ to: t })[0]?.payload as {
      title?: string;
      data: Record<string, string>;
      android: Record<string, unknown>;
    };
    assert.equal(p.title, undefined);
    assert.deepEqual(p.data, { sync: 'inbox' });
    assert.equal(p.android.priority, 'NORMAL');
  });

  test('UNREGISTERED and a malformed token (INVALID_ARGUMENT on message.token) are invalid addresses', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'UNREGISTERED' });
    await assert.rejects(
      send(androidJob(t)),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'unregistered' && e.status === 404,
    );
    await assert.rejects(
      send(androidJob('not a token!')),
      (e: unknown) =>
        e instanceof InvalidAddressError && e.reason === 'invalid' && e.code === 'INVALID_ARGUMENT',
    );
    assert.equal(await metric('clarion_fcm_invalid_tokens_total'), 2);
  });

  test('QUOTA_EXCEEDED (honouring Retry-After), UNAVAILABLE, INTERNAL, drops and timeouts are retryable', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'QUOTA_EXCEEDED', retryAfterSeconds: 30, times: 1 });
    await assert.rejects(
      send(androidJob(t)),
      (e: unknown) =>
        e instanceof RetryableError &&
        e.code === 'QUOTA_EXCEEDED' &&
        e.status === 429 &&
        e.retryAfterMs === 30_000 &&
        e.throttled,
    );
    for (const fail of ['UNAVAILABLE', 'INTERNAL']) {
      sb.behaviors.add({ provider: 'fcm', to: t, fail, times: 1 });
      await assert.rejects(
        send(androidJob(t)),
        (e: unknown) => e instanceof RetryableError && e.code === fail && !e.throttled,
        fail,
      );
    }
    sb.behaviors.add({ provider: 'fcm', to: t, drop: true, times: 1 });
    await assert.rejects(
      send(androidJob(t)),
      (e: unknown) => e instanceof RetryableError && e.code === 'connection',
    );
    sb.behaviors.add({ provider: 'fcm', to: t, delayMs: 800, times: 1 });
    await assert.rejects(
      send(androidJob(t)),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    await send(androidJob(t));
  });

  test('SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR and a wrong project are configuration errors', async () => {
    for (const fail of ['SENDER_ID_MISMATCH', 'THIRD_PARTY_AUTH_ERROR']) {
      const t = token();
      sb.behaviors.add({ provider: 'fcm', to: t, fail });
      await assert.rejects(
        send(androidJob(t)),
        (e: unknown) => e instanceof PermanentError && e.configuration && e.code === fail,
        fail,
      );
    }
    await assert.rejects(
      send(androidJob(token()), { projectId: 'someone-elses-project' }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'PERMISSION_DENIED',
    );
  });

  test('a key the token endpoint refuses is a configuration error', async () => {
    const stranger = fcmTestServiceAccount('clarion-sandbox', 'stranger');
    await assert.rejects(
      send(androidJob(token()), { serviceAccountJson: JSON.stringify(stranger.json) }),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === 'oauth_invalid_grant',
    );
  });

  test('a revoked access token: 401 drops it, the retry fetches a new one and succeeds', async () => {
    const before = fake.tokensIssued();
    fake.revokeTokens();
    await assert.rejects(
      send(androidJob(token())),
      (e: unknown) => e instanceof RetryableError && e.code === 'UNAUTHENTICATED',
    );
    await send(androidJob(token()), undefined, 2);
    assert.equal(fake.tokensIssued(), before + 1);
  });

  test('a payload over 4 KB and a non-string data value never reach FCM as such', async () => {
    const t = token();
    await assert.rejects(
      send(androidJob(t, { content: { title: 'x', body: 'y'.repeat(5000) } })),
      (e: unknown) => e instanceof PermanentError && e.code === 'payload_too_large',
    );
    assert.equal(sb.recorder.count({ to: t }), 0);
    // Data from an untyped caller: the plugin stringifies, so FCM accepts it.
    await send(androidJob(t, { content: { data: { n: 5 as unknown as string } } }));
    assert.deepEqual((sb.recorder.list({ to: t })[0]?.payload as { data: unknown } | undefined)?.data, {
      n: '5',
    });
  });

  test('two apps, two Firebase projects, each authenticated by its own service account', async () => {
    const a = token();
    const b = token();
    await send(androidJob(a));
    await send(androidJob(b), { serviceAccountJson: JSON.stringify(appB.json) });
    assert.equal(
      (sb.recorder.list({ to: a })[0]?.payload as { projectId: string } | undefined)?.projectId,
      'clarion-sandbox',
    );
    assert.equal(
      (sb.recorder.list({ to: b })[0]?.payload as { projectId: string } | undefined)?.projectId,
      'app-b-project',
    );
  });

  test('one pooled connection carries many concurrent sends and one token serves them all', async () => {
    const own = new Registry();
    const s = await fcmPlugin.createSender({
      config: fcmPlugin.config.parse({ ...fake.pluginConfig!(), connections: 1 }),
      log: silentLogger,
      metrics: fcmPlugin.metrics!(pluginMetricsFactory(own, 'fcm')),
    });
    fake.resetConnections();
    const tokensBefore = fake.tokensIssued();
    try {
      await Promise.all(
        Array.from({ length: 200 }, () =>
          s.send(androidJob(token()), { appConfig: undefined, attempt: 1, log: silentLogger }),
        ),
      );
      for (let i = 0; i < 50; i += 1)
        await s.send(androidJob(token()), { appConfig: undefined, attempt: 1, log: silentLogger });
      // The fake also plays the OAuth endpoint: one connection fetched the token, one carried all 250 sends.
      assert.equal(fake.connections(), 2);
      assert.equal(fake.tokensIssued() - tokensBefore, 1);
      const opened = (await own.getMetricsAsJSON()).find(
        (m) => m.name === 'clarion_fcm_connections_opened_total',
      );
      assert.equal(opened?.values[0]?.value, 1);
    } finally {
      await s.close();
    }
  });
  test('sends to one project are paced under its quota per minute; another project has its own', async () => {
    // 600 a minute: 10 at once, then one every 100 ms.
    const paced = await fcmPlugin.createSender({
      config: fcmPlugin.config.parse({ ...fake.pluginConfig!(), quotaPerMinute: 600 }),
      log: silentLogger,
      metrics: fcmPlugin.metrics!(pluginMetricsFactory(new Registry(), 'fcm')),
    });
    try {
      const sendPaced = (appConfig?: FcmAppConfig) =>
        paced.send(androidJob(token()), { appConfig, attempt: 1, log: silentLogger });
      const started = performance.now();
      await Promise.all(Array.from({ length: 15 }, () => sendPaced()));
      const pacedMs = performance.now() - started;
      assert.ok(pacedMs >= 450, `15 messages at 10/s after a burst of 10 took ${Math.round(pacedMs)} ms`);
      // App B's project is paced by its own setting, apart from the default project.
      const appConfig = { serviceAccountJson: JSON.stringify(appB.json), quotaPerMinute: 600_000 };
      const before = sb.recorder.count({ provider: 'fcm', outcome: 'accepted' });
      await Promise.all(Array.from({ length: 15 }, () => sendPaced(appConfig)));
      assert.equal(sb.recorder.count({ provider: 'fcm', outcome: 'accepted' }) - before, 15);
    } finally {
      await paced.close();
    }
  });
});

describe('fcm plugin as a BullMQ worker', () => {
  let sb: Sandbox;
  let fake: FcmFake;
  const connection = testRedis();
  const prefix = testPrefix('fcm');
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    fake = fcmFake();
    sb = await Sandbox.start({ fakes: [fake] });
    runtime = await PluginRuntime.start({
      plugin: fcmPlugin,
      config: fcmPlugin.config.parse(fake.pluginConfig!()),
      connection,
      prefix,
      registry: new Registry(),
      reporter,
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
    });
    queue = new Queue(pluginQueueName('fcm'), { connection, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(connection, prefix);
    connection.disconnect();
    await sb.stop();
  });
  const enqueue = (job: DeliveryJob) =>
    queue.add('deliver', job, deliveryJobOptions(job, fcmPlugin.processor));

  test('UNAVAILABLE twice, then success: retried and reported sent', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'UNAVAILABLE', times: 2 });
    const job = androidJob(t);
    await enqueue(job);
    const final = await waitFor('sent', () => reporter.final(job.deliveryId));
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
  });

  test('UNREGISTERED fails as invalid_address (the core disables the device)', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'UNREGISTERED' });
    const job = androidJob(t);
    await enqueue(job);
    const final = await waitFor('failed', () => reporter.final(job.deliveryId));
    assert.equal(final.type === 'failed' && final.reason, 'invalid_address');
  });

  test('SENDER_ID_MISMATCH marks the plugin unhealthy until a send succeeds', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'SENDER_ID_MISMATCH' });
    const job = androidJob(t);
    await enqueue(job);
    await waitFor('failed', () => reporter.final(job.deliveryId));
    assert.equal(runtime.getHealth().healthy, false);
    const ok = androidJob(token());
    await enqueue(ok);
    await waitFor('sent', () => reporter.final(ok.deliveryId));
    assert.equal(runtime.getHealth().healthy, true);
  });

  test('QUOTA_EXCEEDED is throttling: the queue waits out Retry-After, then sends without spending an attempt', async () => {
    const t = token();
    sb.behaviors.add({ provider: 'fcm', to: t, fail: 'QUOTA_EXCEEDED', retryAfterSeconds: 1, times: 1 });
    const job = androidJob(t);
    const started = Date.now();
    await enqueue(job);
    const final = await waitFor('sent', () => reporter.final(job.deliveryId));
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 1);
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
  });
});
