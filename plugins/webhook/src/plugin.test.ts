import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PermanentError, RetryableError, type Sender, silentLogger } from '@clarion/plugin-sdk';
import { makeJob, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { Sandbox, webhookFake } from '@clarion/sandbox';
import webhookPlugin from './plugin';

const SECRET = 'test-secret-0123456789';
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
