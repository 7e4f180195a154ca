import assert from 'node:assert/strict';
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
import { type OnceExtra, SANDBOX_VONAGE, Sandbox, vonageFake } from '@clarion/sandbox';
import { Registry } from 'prom-client';
import { type VonageAppConfig, vonageAppConfig } from './config';
import { vonageMetrics } from './metrics';
import vonagePlugin from './plugin';

const job = (phone: string, text = 'Your code is 123456') =>
  makeJob({
    plugin: 'vonage',
    channel: 'sms',
    address: { kind: 'phone', contactId: 'c1', phone },
    content: { text },
  });

let conformanceSandbox: Sandbox;
runConformanceSuite({
  plugin: vonagePlugin,
  setup: async () => {
    conformanceSandbox = await Sandbox.start({ fakes: [vonageFake()] });
    conformanceSandbox.behaviors.add({ provider: 'vonage', to: '447700900999', fail: '33' });
  },
  teardown: () => conformanceSandbox.stop(),
  config: () => conformanceSandbox.pluginConfigs().vonage,
  validJob: () => job('+447700900000'),
  invalidAddressJob: () => job('+447700900999'),
});

describe('vonage plugin through @vonage/server-sdk against the sandbox', () => {
  let sandbox: Sandbox;
  let sender: Sender<VonageAppConfig>;
  const registry = new Registry();
  before(async () => {
    sandbox = await Sandbox.start({ fakes: [vonageFake()] });
    sender = await vonagePlugin.createSender({
      config: vonagePlugin.config.parse({ ...sandbox.pluginConfigs().vonage, timeoutMs: 500 }),
      log: silentLogger,
      metrics: vonageMetrics(pluginMetricsFactory(registry, 'vonage')),
    });
  });
  after(async () => {
    await sender.close();
    await sandbox.stop();
  });
  const send = (phone: string, text?: string, appConfig?: VonageAppConfig) =>
    sender.send(job(phone, text), { appConfig, attempt: 1, log: silentLogger });
  const rule = (to: string, fail: string, extra?: OnceExtra) =>
    sandbox.behaviors.once('vonage', to, fail, extra);
  const payload = (to: string) =>
    sandbox.recorder.list({ provider: 'vonage', to }).at(-1)?.payload as {
      text: string;
      type: string;
      clientRef: string;
    };

  test('sends GSM-7 text as text, with the delivery id as client-ref', async () => {
    const delivery = job('+447700900001', 'a'.repeat(200));
    const result = await sender.send(delivery, { appConfig: undefined, attempt: 1, log: silentLogger });
    assert.match(result.providerMessageId ?? '', /^[0-9A-F]{16}$/);
    assert.deepEqual(result.details, { segments: 2, encoding: 'GSM-7', vonageParts: 2 });
    assert.equal(payload('447700900001').type, 'text');
    assert.equal(payload('447700900001').clientRef, delivery.deliveryId);
  });

  test('sends non-GSM text as unicode, so the handset shows it intact', async () => {
    const result = await send('+447700900002', 'Привет 😀');
    assert.equal(result.details?.encoding, 'UCS-2');
    assert.equal(payload('447700900002').type, 'unicode');
    assert.equal(payload('447700900002').text, 'Привет 😀');
  });

  test('status 1 throttles the queue; 5 and HTTP 5xx, timeouts and dropped connections retry', async () => {
    rule('447700900003', '1');
    await assert.rejects(
      send('+447700900003'),
      (e: unknown) => e instanceof RetryableError && e.throttled && e.code === '1',
    );
    rule('447700900003', '5');
    await assert.rejects(
      send('+447700900003'),
      (e: unknown) => e instanceof RetryableError && !e.throttled && e.code === '5',
    );
    rule('447700900003', '503');
    await assert.rejects(
      send('+447700900003'),
      (e: unknown) => e instanceof RetryableError && e.status === 503,
    );
    rule('447700900003', '', { delayMs: 1500 });
    await assert.rejects(
      send('+447700900003'),
      (e: unknown) => e instanceof RetryableError && e.code === 'timeout',
    );
    rule('447700900003', '', { drop: true });
    await assert.rejects(
      send('+447700900003'),
      (e: unknown) => e instanceof RetryableError && e.code === 'connection',
    );
  });

  test('3 (bad to), 6, 33 are invalid addresses; 7 (barred) is opted out; 29 and 12 permanent', async () => {
    rule('447700900004', '6');
    await assert.rejects(
      send('+447700900004'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'invalid',
    );
    rule('447700900004', '33');
    await assert.rejects(
      send('+447700900004'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'unregistered',
    );
    rule('447700900004', '7');
    await assert.rejects(
      send('+447700900004'),
      (e: unknown) => e instanceof InvalidAddressError && e.reason === 'opted_out',
    );
    rule('447700900004', '29');
    await assert.rejects(
      send('+447700900004'),
      (e: unknown) => e instanceof PermanentError && !e.configuration && e.code === '29',
    );
    await assert.rejects(
      send('+447700900004', 'x'.repeat(3201)),
      (e: unknown) => e instanceof PermanentError && e.code === '12',
    );
    await assert.rejects(
      send('+0447700900004'),
      (e: unknown) => e instanceof InvalidAddressError && e.code === 'not_e164',
    );
    const statuses = await registry.getSingleMetric('clarion_vonage_status_total')?.get();
    assert.ok(statuses?.values.some((v) => v.labels.status === '7'));
  });

  test('4 (bad credentials), 8, 9 and 15 are configuration errors', async () => {
    const wrong = { apiKey: SANDBOX_VONAGE.apiKey, apiSecret: 'wrong-secret', from: 'Clarion' };
    await assert.rejects(
      send('+447700900005', 'x', wrong),
      (e: unknown) => e instanceof PermanentError && e.configuration && e.code === '4',
    );
    for (const code of ['8', '9', '15']) {
      rule('447700900005', code);
      await assert.rejects(
        send('+447700900005'),
        (e: unknown) => e instanceof PermanentError && e.configuration && e.code === code,
      );
    }
  });

  test('per-app credentials and sender', async () => {
    // The runtime validates app settings with the plugin's appConfig schema before they reach the sender.
    const app = vonageAppConfig.parse({
      apiKey: SANDBOX_VONAGE.apiKey,
      apiSecret: SANDBOX_VONAGE.apiSecret,
      from: '+447700900100',
    });
    await send('+447700900006', 'hi', app);
    assert.equal(
      (
        sandbox.recorder.list({ provider: 'vonage', to: '447700900006' })[0]?.payload as
          | { from: string }
          | undefined
      )?.from,
      '447700900100',
    );
  });
});
