import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  InvalidAddressError,
  outboundPolicy,
  PermanentError,
  RetryableError,
  type Sender,
  STRICT_OUTBOUND,
  silentLogger,
} from '@clarion/plugin-sdk';
import { makeJob, runConformanceSuite, startRuntime } from '@clarion/plugin-sdk/testing';
import { Sandbox, webhookFake } from '@clarion/sandbox';
import { freePort, waitFor } from '@clarion/testkit';
import webhookPlugin from './plugin';

const SECRET = 'test-secret-0123456789';
/** The sandbox listens on 127.0.0.1: an operator's explicit allowance, as in dev mode. */
const ALLOW_PRIVATE = outboundPolicy({ allowPrivate: true });
let sandbox: Sandbox;
const job = (name: string) =>
  makeJob({
    plugin: 'webhook',
    channel: 'webhook',
    address: { kind: 'url', url: `${sandbox.url}/webhook/${name}` },
    content: { json: { order: 42 } },
  });

runConformanceSuite({
  plugin: webhookPlugin,
  setup: async () => {
    sandbox = await Sandbox.start({ fakes: [webhookFake({ secret: SECRET })] });
  },
  teardown: () => sandbox.stop(),
  config: () => ({ secret: SECRET, timeoutMs: 500 }),
  validJob: () => job('conformance'),
  outbound: ALLOW_PRIVATE,
});

describe('webhook plugin against the sandbox receiver', () => {
  let sb: Sandbox;
  let sender: Sender<unknown>;
  before(async () => {
    sb = await Sandbox.start({ fakes: [webhookFake({ secret: SECRET })] });
    sender = await webhookPlugin.createSender({
      config: webhookPlugin.config.parse({ secret: SECRET, timeoutMs: 300 }),
      log: silentLogger,
      metrics: undefined,
      outbound: ALLOW_PRIVATE,
    });
  });
  after(async () => {
    await sender.close();
    await sb.stop();
  });
  const send = (name: string, appConfig?: { url?: string; secret?: string }) =>
    sender.send(
      makeJob({
        plugin: 'webhook',
        channel: 'webhook',
        address: { kind: 'url', url: `${sb.url}/webhook/${name}` },
        content: { json: { order: 42 } },
      }),
      { appConfig, attempt: 1, log: silentLogger },
    );

  test('POSTs the signed JSON the receiver verifies', async () => {
    await send('orders');
    const [rec] = sb.recorder.list({ to: 'orders' });
    assert.equal(rec?.outcome, 'accepted');
    assert.deepEqual((rec?.payload as { content: unknown } | undefined)?.content, { order: 42 });
  });

  test('a 5xx is retryable, with the receiver Retry-After', async () => {
    sb.behaviors.add({ provider: 'webhook', to: 'down', fail: '503', retryAfterSeconds: 7 });
    await assert.rejects(
      send('down'),
      (e: unknown) => e instanceof RetryableError && e.status === 503 && e.retryAfterMs === 7000,
    );
  });

  test('a timeout is retryable', async () => {
    sb.behaviors.add({ provider: 'webhook', to: 'slow', delayMs: 1000 });
    await assert.rejects(send('slow'), (e: unknown) => e instanceof RetryableError && e.code === 'timeout');
  });

  test('a dropped connection is retryable', async () => {
    sb.behaviors.add({ provider: 'webhook', to: 'drop', drop: true });
    await assert.rejects(
      send('drop'),
      (e: unknown) => e instanceof RetryableError && e.code === 'connection',
    );
  });

  test('a 4xx is permanent (a wrong app secret gives the receiver 401)', async () => {
    await assert.rejects(
      send('wrong-secret', { secret: 'another-secret-0123456789' }),
      (e: unknown) => e instanceof PermanentError && e.status === 401,
    );
    sb.behaviors.add({ provider: 'webhook', to: 'gone', fail: '404' });
    await assert.rejects(send('gone'), (e: unknown) => e instanceof PermanentError && e.status === 404);
  });

  test('no URL at all is a permanent error, not a crash', async () => {
    await assert.rejects(
      sender.send(makeJob({ plugin: 'webhook', channel: 'webhook', address: { kind: 'url', url: '' } }), {
        appConfig: undefined,
        attempt: 1,
        log: silentLogger,
      }),
      (e: unknown) => e instanceof PermanentError && e.code === 'invalid_url',
    );
  });
});

describe('webhook destinations the outbound guard refuses', () => {
  let sb: Sandbox;
  let strict: Sender<unknown>;
  before(async () => {
    sb = await Sandbox.start({ fakes: [webhookFake({ secret: SECRET })] });
    strict = await webhookPlugin.createSender({
      config: webhookPlugin.config.parse({ secret: SECRET, timeoutMs: 300 }),
      log: silentLogger,
      metrics: undefined,
      outbound: STRICT_OUTBOUND,
    });
  });
  after(async () => {
    await strict.close();
    await sb.stop();
  });

  test('loopback, decimal IPs, metadata, credentials and names resolving inside are invalid addresses; nothing is sent', async () => {
    const port = new URL(sb.url).port;
    for (const url of [
      `${sb.url}/webhook/inside`,
      `http://localhost:${port}/webhook/inside`,
      `http://2130706433:${port}/webhook/inside`,
      `http://[::ffff:127.0.0.1]:${port}/webhook/inside`,
      'http://169.254.169.254/latest/meta-data/',
      `http://x@127.0.0.1:${port}/webhook/inside`,
    ]) {
      await assert.rejects(
        strict.send(makeJob({ plugin: 'webhook', channel: 'webhook', address: { kind: 'url', url } }), {
          appConfig: undefined,
          attempt: 1,
          log: silentLogger,
        }),
        (e: unknown) => e instanceof InvalidAddressError && e.code === 'address_refused',
        url,
      );
    }
    // A name is checked where it resolves: the app's URL goes through the same guard.
    await assert.rejects(
      strict.send(makeJob({ plugin: 'webhook', channel: 'webhook', address: { kind: 'url', url: '' } }), {
        appConfig: { url: `http://localhost:${port}/webhook/inside` },
        attempt: 1,
        log: silentLogger,
      }),
      (e: unknown) => e instanceof PermanentError || e instanceof InvalidAddressError,
    );
    assert.equal(sb.recorder.list({ to: 'inside' }).length, 0);
  });
});

describe('webhook circuit breaker per destination', () => {
  test("a dead receiver's open circuit does not hold back another receiver, and the plugin stays healthy", async () => {
    const sb = await Sandbox.start({ fakes: [webhookFake({ secret: SECRET })] });
    const deadPort = await freePort();
    const rt = await startRuntime(
      webhookPlugin,
      { secret: SECRET, timeoutMs: 2000 },
      {
        outbound: ALLOW_PRIVATE,
        processor: { concurrency: 4, attempts: 20, backoff: { baseMs: 100, maxMs: 200 } },
        circuit: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 60_000 },
      },
    );
    try {
      const dead = [1, 2, 3].map(() =>
        makeJob({
          plugin: 'webhook',
          channel: 'webhook',
          address: { kind: 'url', url: `http://127.0.0.1:${deadPort}/hook` },
        }),
      );
      for (const j of dead) await rt.enqueue(j);
      // Enough refused connections to open a circuit (threshold 2).
      await waitFor(
        'refused connections to the dead receiver',
        () => rt.reporter.outcomes.filter((o) => o.type === 'retrying').length >= 2,
      );
      const healthy = makeJob({
        plugin: 'webhook',
        channel: 'webhook',
        address: { kind: 'url', url: `${sb.url}/webhook/healthy` },
      });
      await rt.enqueue(healthy);
      // The circuit's cooldown is 60 s: a shared circuit would hold this delivery for a minute.
      const outcome = await rt.final(healthy.deliveryId, 15_000);
      assert.equal(outcome.type, 'sent');
      assert.equal(sb.recorder.list({ to: 'healthy' }).length, 1);
      assert.deepEqual(rt.runtime.getHealth(), { healthy: true });
      assert.equal(rt.runtime.circuitState(), 'closed');
    } finally {
      await rt.close();
      await sb.stop();
    }
  });
});
