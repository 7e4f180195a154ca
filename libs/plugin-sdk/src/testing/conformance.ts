import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { isInvalidAddressError, isRetryableError, isSendError } from '../errors';
import { silentLogger } from '../logger';
import type { DeliveryJob } from '../message';
import type { OutboundPolicy } from '../outbound/policy';
import type { AnyChannelPlugin, Sender } from '../plugin';
import { deliveryJobOptions, pluginQueueName } from '../queues';
import { PluginRuntime } from '../runtime';
import { satisfiesSdkRange } from '../version';
import { type FakeProvider, hang, serverError, tooManyRequests } from './fake-provider';
import { noopMetricsFactory } from './noop-metrics';
import { RecordingReporter } from './recording-reporter';
import { assertRedisReachable, kitRedisUrl } from './redis-check';
import { routingProblems } from './routable';

export interface ConformanceOptions {
  plugin: AnyChannelPlugin;
  /** A valid config pointing at a reachable (fake) provider. May be computed once the fake runs. */
  config: () => unknown;
  /** Per-app settings to hand the sender, when the plugin has them. */
  appConfig?: () => unknown;
  /** A delivery the provider accepts. */
  validJob: () => DeliveryJob;
  /** A delivery the provider rejects as a dead address (omit for channels without one). */
  invalidAddressJob?: () => DeliveryJob;
  /** Starts/stops the fake provider around the suite. */
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  redisUrl?: string;
  /** Outbound policy for plugins that connect to chosen URLs (a fake on 127.0.0.1 needs private targets allowed). */
  outbound?: OutboundPolicy;
  /**
   * For a plugin that talks HTTP to its provider: the fake (startFakeProvider) that `config` points
   * at. The kit then plays a 429 with Retry-After, a 503 and a hang, and checks the plugin throws a
   * RetryableError for each (honouring Retry-After, giving up on the hang within `timeoutMs`).
   */
  httpFaults?: {
    provider: () => FakeProvider;
    /** How long the plugin may take to give up on a provider that never answers (its own timeout setting). Default 10 s. */
    timeoutMs?: number;
  };
}

/** Builds a DeliveryJob with sensible defaults; tests override what they care about. */
export function makeJob(
  partial: Partial<DeliveryJob> & Pick<DeliveryJob, 'address' | 'plugin' | 'channel'>,
): DeliveryJob {
  return {
    deliveryId: randomUUID(),
    notificationId: randomUUID(),
    appId: 'app-conformance',
    content: { title: 'Hello', body: 'Conformance check', text: 'Conformance check', subject: 'Hello' },
    priority: 'normal',
    acceptedAt: new Date().toISOString(),
    ...partial,
  };
}

/**
 * The contract every channel plugin must honour, run against a real (fake) provider and a real
 * BullMQ queue on Redis. A plugin package calls this from one of its tests.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const { plugin } = options;
  describe(`plugin conformance: ${plugin.name}`, () => {
    let sender: Sender<unknown> | undefined;
    before(async () => {
      await options.setup?.();
    });
    after(async () => {
      await sender?.close();
      await options.teardown?.();
    });

    test('declares a kebab-case name, a channel, an address kind and a supported SDK range', () => {
      assert.match(plugin.name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      assert.ok(plugin.channel.length > 0);
      assert.ok(['device', 'email', 'phone', 'url'].includes(plugin.addressKind));
      assert.match(plugin.version, /^\d+\.\d+\.\d+/);
      assert.ok(
        satisfiesSdkRange(plugin.sdkVersion),
        `sdkVersion ${plugin.sdkVersion} does not accept this SDK`,
      );
    });

    test('its channel is routable: users can store its address, the API can carry its content', () => {
      assert.deepEqual(routingProblems(plugin, options.validJob()), []);
    });

    test('its config schema accepts the valid config and rejects an obviously wrong one', () => {
      assert.ok(plugin.config.safeParse(options.config()).success);
      assert.equal(plugin.config.safeParse(42).success, false);
    });

    test('sends a valid delivery and returns a result', async () => {
      sender = await plugin.createSender({
        config: plugin.config.parse(options.config()),
        log: silentLogger,
        metrics: plugin.metrics?.(noopMetricsFactory(plugin.name)),
        ...(options.outbound ? { outbound: options.outbound } : {}),
      });
      const result = await sender.send(options.validJob(), {
        appConfig: options.appConfig?.(),
        attempt: 1,
        log: silentLogger,
      });
      assert.equal(typeof result, 'object');
    });

    if (options.invalidAddressJob) {
      test('classifies a dead address as InvalidAddressError', async () => {
        assert.ok(sender, 'sender was created by the previous test');
        await assert.rejects(
          sender.send(options.invalidAddressJob!(), {
            appConfig: options.appConfig?.(),
            attempt: 1,
            log: silentLogger,
          }),
          (error: unknown) => isInvalidAddressError(error),
        );
      });
    }

    test('errors it throws are classified SendErrors', async () => {
      // A job with no usable address must not crash the worker with a TypeError.
      assert.ok(sender);
      const broken = { ...options.validJob(), address: { kind: 'url', url: 'not a url' } } as DeliveryJob;
      try {
        await sender.send(broken, { appConfig: options.appConfig?.(), attempt: 1, log: silentLogger });
      } catch (error) {
        assert.ok(isSendError(error), `threw ${String(error)} instead of a SendError`);
      }
    });

    if (options.httpFaults) {
      const faults = options.httpFaults;
      const sendOnce = () => {
        assert.ok(sender, 'sender was created by an earlier test');
        return sender.send(options.validJob(), {
          appConfig: options.appConfig?.(),
          attempt: 1,
          log: silentLogger,
        });
      };
      test("a 429 with Retry-After is retryable and keeps the provider's wait", async () => {
        faults.provider().failNext(tooManyRequests(2));
        await assert.rejects(sendOnce(), (error: unknown) => {
          assert.ok(isRetryableError(error), `threw ${String(error)} instead of a RetryableError`);
          assert.equal(error.retryAfterMs, 2000, 'retryAfterMs is the Retry-After header (2 s)');
          return true;
        });
      });
      test('a 5xx is retryable', async () => {
        faults.provider().failNext(serverError(503));
        await assert.rejects(sendOnce(), (error: unknown) => isRetryableError(error));
      });
      test('a provider that never answers is given up on, retryably, within its timeout', async () => {
        const limit = faults.timeoutMs ?? 10_000;
        faults.provider().failNext(hang());
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          sendOnce().then(
            () => 'answered' as const,
            (error: unknown) => error,
          ),
          new Promise<'still waiting'>((resolve) => {
            timer = setTimeout(() => resolve('still waiting'), limit + 2000);
          }),
        ]);
        clearTimeout(timer);
        assert.notEqual(
          outcome,
          'still waiting',
          `send() still waits after ${limit + 2000} ms: give it a timeout`,
        );
        assert.ok(isRetryableError(outcome), `a hang gave ${String(outcome)}, not a RetryableError`);
      });
    }

    test('runs as a BullMQ worker: a queued delivery is sent, reported and counted', async () => {
      const url = kitRedisUrl(options.redisUrl);
      await assertRedisReachable(url);
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      const prefix = `{conformance-${randomUUID().slice(0, 8)}}`;
      const registry = new Registry();
      const reporter = new RecordingReporter();
      const runtime = await PluginRuntime.start({
        plugin,
        config: plugin.config.parse(options.config()),
        connection,
        prefix,
        registry,
        reporter,
        resolveAppConfig: async () => options.appConfig?.(),
        ...(options.outbound ? { outbound: options.outbound } : {}),
      });
      const queue = new Queue(pluginQueueName(plugin.name), { connection, prefix });
      try {
        const job = options.validJob();
        await queue.add('deliver', job, deliveryJobOptions(job, plugin.processor));
        const deadline = Date.now() + 15_000;
        while (!reporter.final(job.deliveryId) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        assert.equal(reporter.final(job.deliveryId)?.type, 'sent');
        const metrics = await registry.getMetricsAsJSON();
        const attempts = metrics.find((m) => m.name === 'clarion_plugin_send_attempts_total');
        assert.ok(
          attempts?.values.some(
            (v) => v.labels.plugin === plugin.name && v.labels.result === 'sent' && v.value === 1,
          ),
          'clarion_plugin_send_attempts_total{result="sent"} counted the send',
        );
        assert.deepEqual(runtime.getHealth(), { healthy: true });
      } finally {
        await runtime.close();
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        connection.disconnect();
      }
    });

    test('closes cleanly, twice', async () => {
      assert.ok(sender);
      await sender.close();
      await sender.close();
      sender = undefined;
    });
  });
}
