import type { DeliveryJob } from '../message';
import type { AnyChannelPlugin } from '../plugin';
import { deliveryJobOptions } from '../queues';
import { startRuntime } from './runtime-harness';

export interface BenchResult {
  plugin: string;
  deliveries: number;
  sent: number;
  seconds: number;
  perSecond: number;
  concurrency: number;
  limiter: unknown;
}

/**
 * Sends `count` deliveries through the real runtime (BullMQ on Redis, the plugin's default
 * concurrency) to a sandbox fake and prints deliveries per second as one JSON line. With
 * `--no-limiter` the plugin's provider rate limit is lifted, which shows what the plugin itself can do.
 */
export async function bench(
  plugin: AnyChannelPlugin,
  config: unknown,
  makeJob: (i: number) => DeliveryJob,
  argv = process.argv,
): Promise<BenchResult> {
  const count = Number(argv.find((a) => /^\d+$/.test(a)) ?? 2000);
  const noLimiter = argv.includes('--no-limiter');
  const h = await startRuntime(
    plugin,
    config,
    noLimiter ? { processor: { limiter: { max: 1_000_000, durationMs: 1000 } } } : {},
  );
  try {
    const jobs = Array.from({ length: count }, (_, i) => makeJob(i));
    const started = process.hrtime.bigint();
    await h.queue.addBulk(
      jobs.map((job) => ({ name: 'deliver', data: job, opts: deliveryJobOptions(job, plugin.processor) })),
    );
    await h.final(jobs.at(-1)!.deliveryId, 300_000);
    while (h.reporter.outcomes.filter((o) => o.type !== 'retrying').length < count)
      await new Promise((r) => setTimeout(r, 10));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const sent = h.reporter.outcomes.filter((o) => o.type === 'sent').length;
    const settings = { ...plugin.processor };
    const result: BenchResult = {
      plugin: plugin.name,
      deliveries: count,
      sent,
      seconds: Number(seconds.toFixed(2)),
      perSecond: Math.round(sent / seconds),
      concurrency: settings.concurrency ?? 50,
      limiter: noLimiter ? 'off' : (settings.limiter ?? 'none'),
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await h.close();
  }
}
