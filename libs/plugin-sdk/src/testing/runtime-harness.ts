import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import type { DeliveryJob } from '../message';
import type { DeliveryOutcome } from '../outcome';
import type { AnyChannelPlugin, ProcessorSettings } from '../plugin';
import { deliveryJobOptions, pluginQueueName } from '../queues';
import { PluginRuntime, type PluginRuntimeOptions } from '../runtime';
import { RecordingReporter } from './recording-reporter';
import { assertRedisReachable, kitRedisUrl } from './redis-check';
import { deletePrefix, pollFor, scratchPrefix, scratchRedis } from './redis-scratch';

/** A plugin running as the worker does in production: PluginRuntime on a real BullMQ queue in Redis. */
export interface RuntimeHarness {
  runtime: PluginRuntime;
  queue: Queue<DeliveryJob>;
  reporter: RecordingReporter;
  registry: Registry;
  enqueue(job: DeliveryJob): Promise<void>;
  final(deliveryId: string, timeoutMs?: number): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}

export interface StartRuntimeOptions {
  processor?: ProcessorSettings;
  resolveAppConfig?: (appId: string) => Promise<unknown>;
  circuit?: PluginRuntimeOptions['circuit'];
  fallbackAfterAttempts?: number;
  outbound?: PluginRuntimeOptions['outbound'];
  maxThrottledRetries?: number;
}

/** Starts `plugin` on its own Redis key prefix (deleted by `close`), recording every outcome. */
export async function startRuntime(
  plugin: AnyChannelPlugin,
  config: unknown,
  options: StartRuntimeOptions = {},
): Promise<RuntimeHarness> {
  await assertRedisReachable(kitRedisUrl());
  const connection = scratchRedis();
  const prefix = scratchPrefix(plugin.name);
  const registry = new Registry();
  const reporter = new RecordingReporter();
  const runtime = await PluginRuntime.start({
    plugin,
    config: plugin.config.parse(config),
    connection,
    prefix,
    registry,
    reporter,
    ...(options.processor ? { processor: options.processor } : {}),
    ...(options.resolveAppConfig ? { resolveAppConfig: options.resolveAppConfig } : {}),
    ...(options.circuit !== undefined ? { circuit: options.circuit } : {}),
    ...(options.outbound ? { outbound: options.outbound } : {}),
    ...(options.maxThrottledRetries !== undefined
      ? { maxThrottledRetries: options.maxThrottledRetries }
      : {}),
    ...(options.fallbackAfterAttempts !== undefined
      ? { fallbackAfterAttempts: options.fallbackAfterAttempts }
      : {}),
  });
  const queue = new Queue<DeliveryJob>(pluginQueueName(plugin.name), { connection, prefix });
  const settings = { ...plugin.processor, ...options.processor };
  return {
    runtime,
    queue,
    reporter,
    registry,
    async enqueue(job) {
      await queue.add('deliver', job, deliveryJobOptions(job, settings));
    },
    final: (deliveryId, timeoutMs = 30_000) =>
      pollFor(`final outcome of ${deliveryId}`, () => reporter.final(deliveryId), timeoutMs),
    async close() {
      await runtime.close();
      await queue.close();
      await deletePrefix(connection, prefix);
      connection.disconnect();
    },
  };
}
