import {
  type AnyChannelPlugin,
  type DeliveryJob,
  type DeliveryOutcome,
  deliveryJobOptions,
  PluginRuntime,
  pluginQueueName,
  type ProcessorSettings,
} from '@clarion/plugin-sdk';
import { RecordingReporter } from '@clarion/plugin-sdk/testing';
import { clearPrefix, testPrefix, testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';

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

export async function startRuntime(
  plugin: AnyChannelPlugin,
  config: unknown,
  options: { processor?: ProcessorSettings; resolveAppConfig?: (appId: string) => Promise<unknown> } = {},
): Promise<RuntimeHarness> {
  const connection = testRedis();
  const prefix = testPrefix(plugin.name);
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
    final: (deliveryId, timeoutMs = 15_000) => waitFor(`final outcome of ${deliveryId}`, () => reporter.final(deliveryId), { timeoutMs }),
    async close() {
      await runtime.close();
      await queue.close();
      await clearPrefix(connection, prefix);
      connection.disconnect();
    },
  };
}
