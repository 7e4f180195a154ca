import type { RedisConnection } from '@clarion/plugin-sdk';
import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import { KeyLayout, type KeyLayoutSettings } from '../redis/key-layout';
import type { JobLockSettings } from './worker-settings';

/** How an internal queue is worked: its name, jobs at once, and (optionally) the delivery workers' job lock. */
export interface QueueWorkerSettings {
  queue: string;
  /** Logger context. */
  name: string;
  concurrency: number;
  /** Without it BullMQ's defaults apply (30 s lock). */
  lock?: JobLockSettings;
}

/**
 * Runs one BullMQ worker for one of the server's own queues (fan-out, status webhooks; plugin
 * queues run in the plugin SDK's PluginRuntime): started at bootstrap, closed at shutdown —
 * `close()` stops taking jobs and waits for the ones in flight (SIGTERM drains) — with its
 * connection errors logged rather than thrown. Subclasses say what a job does.
 */
export abstract class QueueWorkerHost<Data, Result = unknown>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  protected readonly log: Logger;
  private current: Worker<Data, Result> | undefined;
  private readonly prefix: string;

  protected constructor(
    private readonly settings: QueueWorkerSettings,
    private readonly connection: RedisConnection,
    env: KeyLayoutSettings,
  ) {
    // The queue's own prefix: its hash tag on a Redis Cluster, the shared one elsewhere.
    this.prefix = new KeyLayout(env).queue(settings.queue);
    this.log = new Logger(settings.name);
  }

  /** One job; throwing fails the attempt (BullMQ retries it as the job's options say). */
  protected abstract process(job: Job<Data>, token?: string): Promise<Result>;

  /** The running BullMQ worker (undefined before bootstrap and after shutdown). */
  get worker(): Worker<Data, Result> | undefined {
    return this.current;
  }

  onApplicationBootstrap(): void {
    const { queue, concurrency, lock } = this.settings;
    this.current = new Worker<Data, Result>(queue, (job, token) => this.process(job, token), {
      connection: this.connection,
      prefix: this.prefix,
      concurrency,
      ...(lock
        ? {
            lockDuration: lock.lockDurationMs,
            stalledInterval: lock.stalledIntervalMs,
            maxStalledCount: lock.maxStalledCount,
          }
        : {}),
    });
    this.current.on('error', (error) => this.log.warn(`${queue} worker: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    const worker = this.current;
    this.current = undefined;
    await worker?.close();
  }
}
