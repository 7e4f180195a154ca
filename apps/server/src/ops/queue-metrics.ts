import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';
import { QueueRegistry } from '../delivery/queue-registry';
import { FANOUT_QUEUE } from '../fanout/fanout.constants';
import { PluginRegistry } from '../plugins/plugin-registry';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * A queue read that has not answered in time is left out: BullMQ's connections queue commands
 * while Redis is away, and a scrape that waits for them times out whole (the process would look
 * down, not just Redis).
 */
const SCRAPE_READ_MS = 2000;
function within<T>(read: Promise<T>): Promise<T> {
  return Promise.race([
    read,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no answer from Redis')), SCRAPE_READ_MS).unref(),
    ),
  ]);
}

/**
 * Queue depth per queue and state, read from Redis at scrape time. `prioritized` and `delayed`
 * are separate from `waiting` in BullMQ: autoscaling should sum them (see the Helm chart).
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly queues: QueueRegistry,
    private readonly plugins: PluginRegistry,
  ) {}

  onModuleInit(): void {
    const queues = this.queues;
    const names = () => [...this.plugins.names().map((n) => queues.forPlugin(n)), queues.named(FANOUT_QUEUE)];
    if (this.registry.getSingleMetric('clarion_queue_jobs')) return;
    new Gauge({
      name: 'clarion_queue_jobs',
      help: 'Jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          names().map(async (q) => {
            try {
              const counts = await within(q.getJobCounts(...STATES));
              for (const s of STATES) this.set({ queue: q.name, state: s }, counts[s] ?? 0);
            } catch {
              // Redis down: leave the queue out rather than fail the whole scrape.
            }
          }),
        );
      },
    });
    new Gauge({
      name: 'clarion_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          names().map(async (q) => {
            try {
              const [job] = await within(q.getJobs(['prioritized', 'waiting'], 0, 0, true));
              this.set({ queue: q.name }, job ? Math.max(0, (Date.now() - job.timestamp) / 1000) : 0);
            } catch {
              // as above
            }
          }),
        );
      },
    });
  }
}
