import type { AnyChannelPlugin, DeliveryJob } from '@clarion/plugin-sdk';
import { deliveryJobOptions } from '@clarion/plugin-sdk';
import { startRuntime } from './test-runtime';

/**
 * Sends `count` deliveries through the real runtime (BullMQ on Redis, the plugin's default
 * concurrency) to a sandbox fake and prints deliveries per second. With `--no-limiter` the
 * plugin's provider rate limit is lifted, which shows what the plugin itself can do.
 */
export async function bench(plugin: AnyChannelPlugin, config: unknown, makeJob: (i: number) => DeliveryJob): Promise<number> {
  const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2000);
  const noLimiter = process.argv.includes('--no-limiter');
  const h = await startRuntime(plugin, config, noLimiter ? { processor: { limiter: { max: 1_000_000, durationMs: 1000 } } } : {});
  try {
    const jobs = Array.from({ length: count }, (_, i) => makeJob(i));
    const started = process.hrtime.bigint();
    await h.queue.addBulk(jobs.map((job) => ({ name: 'deliver', data: job, opts: deliveryJobOptions(job, plugin.processor) })));
    const last = jobs.at(-1)!.deliveryId;
    await h.final(last, 300_000);
    while (h.reporter.outcomes.filter((o) => o.type !== 'retrying').length < count) await new Promise((r) => setTimeout(r, 10));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const sent = h.reporter.outcomes.filter((o) => o.type === 'sent').length;
    const rate = sent / seconds;
    const settings = { ...plugin.processor };
    console.log(
      JSON.stringify({
        plugin: plugin.name,
        deliveries: count,
        sent,
        seconds: Number(seconds.toFixed(2)),
        perSecond: Math.round(rate),
        concurrency: settings.concurrency ?? 50,
        limiter: noLimiter ? 'off' : (settings.limiter ?? 'none'),
      }),
    );
    return rate;
  } finally {
    await h.close();
  }
}
