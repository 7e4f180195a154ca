import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type DeliveryJob,
  deliveryJobOptions,
  InvalidAddressError,
  outboundPolicy,
  PermanentError,
  PluginRuntime,
  pluginMetricsFactory,
  pluginQueueName,
  RetryableError,
  type Sender,
  STRICT_OUTBOUND,
  silentLogger,
  type WebPushSubscription,
} from '@clarion/plugin-sdk';
import { makeJob, RecordingReporter, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { Sandbox, type WebPushFake, webPushFake } from '@clarion/sandbox';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { WebPushAppConfig } from './config';
import webPushPlugin from './plugin';
import { generateVapidKeys } from './vapid';

const webJob = (subscription: WebPushSubscription, partial: Partial<DeliveryJob> = {}) =>
  makeJob({
    plugin: 'webpush',
    channel: 'web',
    address: { kind: 'device', contactId: 'c1', platform: 'web', subscription },
    ...partial,
  });
const idOf = (s: WebPushSubscription) => s.endpoint.split('/').at(-1)!;
/** The sandbox push service listens on 127.0.0.1: an operator's explicit allowance, as in dev mode. */
const ALLOW_PRIVATE = outboundPolicy({ allowPrivate: true });

let conformanceSandbox: Sandbox;
let conformanceFake: WebPushFake;
runConformanceSuite({
  plugin: webPushPlugin,
  setup: async () => {
    conformanceFake = webPushFake();
    conformanceSandbox = await Sandbox.start({ fakes: [conformanceFake] });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceFake.pluginConfig!(),
  validJob: () => webJob(conformanceFake.subscribe()),
  invalidAddressJob: () => {
    const sub = conformanceFake.subscribe();
    conformanceFake.unsubscribe(sub.id);
    return webJob(sub);
  },
  outbound: ALLOW_PRIVATE,
});

describe('webpush plugin through web-push to the sandbox push service', () => {
  let sb: Sandbox;
  let fake: WebPushFake;
  let sender: Sender<WebPushAppConfig>;
  const registry = new Registry();
  const appB = generateVapidKeys();

  before(async () => {
    fake = webPushFake();
    sb = await Sandbox.start({ fakes: [fake] });
    sender = await webPushPlugin.createSender({
      config: webPushPlugin.config.parse({ ...fake.pluginConfig!(), timeoutMs: 400 }),
      log: silentLogger,
      metrics: webPushPlugin.metrics!(pluginMetricsFactory(registry, 'webpush')),
      outbound: ALLOW_PRIVATE,
    });
  });
  after(async () => {
    await sender.close();
    await sb.stop();
  });
  const send = (job: DeliveryJob, appConfig?: WebPushAppConfig) =>
    sender.send(job, { appConfig, attempt: 1, log: silentLogger });
  const metric = async (name: string) =>
    (await registry.getMetricsAsJSON())
      .find((m) => m.name === name)
      ?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;

  test('encrypts what the user sees; the fake decrypts it per RFC 8291; TTL, urgency and topic are set', async () => {
    const sub = fake.subscribe({ applicationServerKey: String(fake.pluginConfig!().vapidPublicKey) });
    const expiresAt = new Date(Date.now() + 120_000).toISOString();
    const job = webJob(sub, {
      priority: 'high',
      expiresAt,
      collapseKey: 'inbox-count',
      content: {
        title: 'New message',
        body: 'Ada: lunch?',
        icon: '/icon.png',
        url: 'https://app.example/inbox',
        data: { thread: '9' },
      },
    });
    const result = await send(job);
    assert.match(result.providerMessageId ?? '', /\/message\//);
    const [rec] = sb.recorder.list({ provider: 'webpush', to: sub.id });
    assert.equal(rec?.outcome, 'accepted');
    assert.equal(rec?.channel, 'web');
    assert.deepEqual(rec?.payload, {
      title: 'New message',
      body: 'Ada: lunch?',
      icon: '/icon.png',
      url: 'https://app.example/inbox',
      tag: 'inbox-count',
      data: { thread: '9' },
      deliveryId: job.deliveryId,
    });
    assert.ok(Number(rec?.headers?.ttl) >= 118 && Number(rec?.headers?.ttl) <= 120);
    assert.equal(rec?.headers?.urgency, 'high');
    assert.equal(rec?.headers?.topic, 'inbox-count');
    assert.equal(rec?.headers?.['content-encoding'], 'aes128gcm');
  });

  test('404 and 410 are invalid addresses (the subscription is removed)', async () => {
    const gone = fake.subscribe();
    fake.unsubscribe(gone.id);
    await assert.rejects(
      send(webJob(gone)),
      (e: unknown) => e instanceof InvalidAddressError && e.status === 410 && e.reason === 'unregistered',
    );
    const unknown = { ...fake.subscribe(), endpoint: `${fake.origin()}/push/neverexisted` };
    await assert.rejects(
      send(webJob(unknown)),
      (e: unknown) => e instanceof InvalidAddressError && e.status === 404,
    );
    assert.equal(await metric('clarion_webpush_invalid_subscriptions_total'), 2);
  });

  test('429 (with Retry-After), 5xx, drops and timeouts are retryable', async () => {
    const sub = fake.subscribe();
    sb.behaviors.add({ provider: 'webpush', to: idOf(sub), fail: '429', retryAfterSeconds: 12, times: 1 });
    await assert.rejects(
      send(webJob(sub)),
      (e: unknown) => e instanceof RetryableError && e.status === 429 && e.retryAfterMs === 12_000,
    );
    sb.behaviors.add({ provider: 'webpush', to: idOf(sub), fail: '503', times: 1 });
    await assert.rejects(send(webJob(sub)), (e: unknown) => e instanceof RetryableError && e.status === 503);
    sb.behaviors.add({ provider: 'webpush', to: idOf(sub), drop: true, times: 1 });
    await assert.rejects(
      send(webJob(sub)),
      (e: unknown) => e instanceof RetryableError && e.code === 'connection',
    );
    sb.behaviors.add({ provider: 'webpush', to: idOf(sub), delayMs: 800, times: 1 });
    await assert.rejects(
      send(webJob(sub)),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    await send(webJob(sub));
  });

  test('413, 400, 401 and 403 are permanent, and none is the plugin configuration', async () => {
    const sub = fake.subscribe();
    for (const fail of ['413', '400']) {
      sb.behaviors.add({ provider: 'webpush', to: idOf(sub), fail, times: 1 });
      await assert.rejects(
        send(webJob(sub)),
        (e: unknown) => e instanceof PermanentError && !e.configuration && e.status === Number(fail),
        fail,
      );
    }
    // Subscribed with app B's key, but sent with the server's: the push service answers 403.
    const other = fake.subscribe({ applicationServerKey: appB.publicKey });
    await assert.rejects(
      send(webJob(other)),
      (e: unknown) => e instanceof PermanentError && !e.configuration && e.status === 403,
    );
  });

  test('keys that cannot encrypt are an invalid subscription, refused before sending', async () => {
    const sub = fake.subscribe();
    const point = Buffer.from(sub.keys.p256dh, 'base64url');
    point[64] = point[64]! ^ 1; // no longer on the curve
    for (const keys of [
      { ...sub.keys, p256dh: point.toString('base64url') },
      { ...sub.keys, p256dh: Buffer.concat([Buffer.from([2]), point.subarray(1, 33)]).toString('base64url') },
      { ...sub.keys, auth: Buffer.alloc(15, 1).toString('base64url') },
      { ...sub.keys, auth: 'not base64url!!' },
    ]) {
      await assert.rejects(
        send(webJob({ ...sub, keys })),
        (e: unknown) => e instanceof InvalidAddressError && e.code === 'invalid_subscription',
        JSON.stringify(keys),
      );
    }
    assert.equal(sb.recorder.list({ to: sub.id }).length, 0);
  });

  test('endpoints inside the network are refused as invalid addresses under the default policy', async () => {
    const strict = await webPushPlugin.createSender({
      config: webPushPlugin.config.parse({ ...fake.pluginConfig!(), timeoutMs: 400 }),
      log: silentLogger,
      metrics: webPushPlugin.metrics!(pluginMetricsFactory(new Registry(), 'webpush')),
      outbound: STRICT_OUTBOUND,
    });
    try {
      const sub = fake.subscribe();
      const port = new URL(sub.endpoint).port;
      for (const endpoint of [
        sub.endpoint,
        sub.endpoint.replace('127.0.0.1', 'localhost'),
        `https://127.0.0.1@localhost:${port}/push/${sub.id}`,
        'https://169.254.169.254/latest/meta-data/',
        `https://2130706433:${port}/push/${sub.id}`,
      ]) {
        await assert.rejects(
          strict.send(webJob({ ...sub, endpoint }), { appConfig: undefined, attempt: 1, log: silentLogger }),
          (e: unknown) => e instanceof InvalidAddressError && e.code === 'address_refused',
          endpoint,
        );
      }
      assert.equal(sb.recorder.list({ to: sub.id }).length, 0);
    } finally {
      await strict.close();
    }
  });

  test('a payload over one record (3993 bytes) is refused before sending', async () => {
    const sub = fake.subscribe();
    await assert.rejects(
      send(webJob(sub, { content: { title: 't', body: 'x'.repeat(4000) } })),
      (e: unknown) => e instanceof PermanentError && e.code === 'payload_too_large',
    );
    assert.equal(sb.recorder.count({ to: sub.id }), 0);
  });

  test("per-app VAPID keys: each app's subscriptions verify against its own key", async () => {
    const a = fake.subscribe({ applicationServerKey: String(fake.pluginConfig!().vapidPublicKey) });
    const b = fake.subscribe({ applicationServerKey: appB.publicKey });
    await send(webJob(a));
    await send(webJob(b), {
      vapidPublicKey: appB.publicKey,
      vapidPrivateKey: appB.privateKey,
      vapidSubject: 'https://b.example',
    });
    assert.equal(sb.recorder.list({ to: a.id })[0]?.outcome, 'accepted');
    assert.equal(sb.recorder.list({ to: b.id })[0]?.outcome, 'accepted');
  });

  test('a long collapse key becomes a valid Topic', async () => {
    const sub = fake.subscribe();
    await send(
      webJob(sub, { collapseKey: 'order:42 shipped / very long key that exceeds thirty-two characters' }),
    );
    assert.match(sb.recorder.list({ to: sub.id })[0]?.headers?.topic ?? '', /^[A-Za-z0-9_-]{32}$/);
  });

  test('keep-alive: sequential sends reuse one TLS connection', async () => {
    const s = await webPushPlugin.createSender({
      config: webPushPlugin.config.parse(fake.pluginConfig!()),
      log: silentLogger,
      metrics: webPushPlugin.metrics!(pluginMetricsFactory(new Registry(), 'webpush')),
      outbound: ALLOW_PRIVATE,
    });
    fake.resetConnections();
    try {
      const sub = fake.subscribe();
      for (let i = 0; i < 100; i += 1)
        await s.send(webJob(sub), { appConfig: undefined, attempt: 1, log: silentLogger });
      assert.equal(fake.connections(), 1);
    } finally {
      await s.close();
    }
  });
});

describe('webpush plugin as a BullMQ worker', () => {
  let sb: Sandbox;
  let fake: WebPushFake;
  const connection = testRedis();
  const prefix = testPrefix('webpush');
  const reporter = new RecordingReporter();
  let runtime: PluginRuntime;
  let queue: Queue;

  before(async () => {
    fake = webPushFake();
    sb = await Sandbox.start({ fakes: [fake] });
    runtime = await PluginRuntime.start({
      plugin: webPushPlugin,
      config: webPushPlugin.config.parse(fake.pluginConfig!()),
      connection,
      prefix,
      registry: new Registry(),
      reporter,
      processor: { backoff: { baseMs: 50, maxMs: 200 } },
      outbound: ALLOW_PRIVATE,
      circuit: { failureThreshold: 4, windowMs: 60_000, cooldownMs: 60_000 },
    });
    queue = new Queue(pluginQueueName('webpush'), { connection, prefix });
  });
  after(async () => {
    await runtime.close();
    await queue.close();
    await clearPrefix(connection, prefix);
    connection.disconnect();
    await sb.stop();
  });
  const enqueue = (job: DeliveryJob) =>
    queue.add('deliver', job, deliveryJobOptions(job, webPushPlugin.processor));

  test('500 twice, then success: retried and reported sent', async () => {
    const sub = fake.subscribe();
    sb.behaviors.add({ provider: 'webpush', to: sub.id, fail: '500', times: 2 });
    const job = webJob(sub);
    await enqueue(job);
    const final = await waitFor('sent', () => reporter.final(job.deliveryId));
    assert.equal(final.type, 'sent');
    assert.equal(final.attempt, 3);
  });

  test('410 fails as invalid_address (the core removes the subscription)', async () => {
    const sub = fake.subscribe();
    fake.unsubscribe(sub.id);
    const job = webJob(sub);
    await enqueue(job);
    const final = await waitFor('failed', () => reporter.final(job.deliveryId));
    assert.equal(final.type === 'failed' && final.reason, 'invalid_address');
  });

  test("one user's refused and failing endpoints neither open a circuit for others nor make the plugin unhealthy", async () => {
    // Subscribed with another key pair: this push service answers 403 to every send.
    const refusing = fake.subscribe({ applicationServerKey: generateVapidKeys().publicKey });
    const down = fake.subscribe();
    sb.behaviors.add({ provider: 'webpush', to: down.id, fail: '503', times: 1000 });
    const bad = [webJob(refusing), webJob(refusing), webJob(down), webJob(down)];
    for (const j of bad) await enqueue(j);
    await waitFor('the refused ones failed', () =>
      bad.slice(0, 2).every((j) => reporter.final(j.deliveryId)?.type === 'failed'),
    );
    await waitFor('the failing ones retried', () =>
      bad
        .slice(2)
        .every((j) =>
          reporter.outcomes.some((o) => o.job.deliveryId === j.deliveryId && o.type === 'retrying'),
        ),
    );
    // The failures opened the circuit of this push service's origin only (held back per origin:
    // see the webhook plugin's test); the plugin's own circuit and health are untouched.
    assert.deepEqual(runtime.getHealth(), { healthy: true });
    assert.equal(runtime.circuitState(), 'closed');
  });
});
