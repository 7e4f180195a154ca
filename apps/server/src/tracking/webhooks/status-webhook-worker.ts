import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { WORKER_REDIS } from '../../redis/redis.module';
import { TrackingMetrics } from '../tracking-metrics';
import { STATUS_WEBHOOK_QUEUE, type StatusWebhookJob } from './status-webhook-dispatcher';
import { StatusWebhooks } from './status-webhooks.service';
import { SIGNATURE_HEADER, signStatusWebhook } from './webhook-signature';

/**
 * Worker role: posts status events to the app's URLs, signed. A non-2xx answer or a network
 * error fails the attempt and BullMQ retries it with exponential backoff; a deleted webhook
 * ends the job quietly.
 */
@Injectable()
export class StatusWebhookWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('status-webhooks');
  private worker: Worker<StatusWebhookJob> | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(WORKER_REDIS) private readonly connection: Redis,
    private readonly hooks: StatusWebhooks,
    private readonly metrics: TrackingMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new Worker<StatusWebhookJob>(STATUS_WEBHOOK_QUEUE, (job) => this.post(job), {
      connection: this.connection,
      prefix: this.env.CLARION_QUEUE_PREFIX,
      concurrency: 20,
    });
    this.worker.on('error', (error) => this.log.warn(`status webhook worker: ${error.message}`));
  }

  private async post(job: Job<StatusWebhookJob>): Promise<void> {
    const target = await this.hooks.target(job.data.webhookId);
    if (!target) return;
    const body = JSON.stringify({ ...job.data.event, attempt: job.attemptsMade + 1 });
    let status = 0;
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Clarion-Status-Webhook/1',
          'clarion-event-id': job.data.event.id,
          [SIGNATURE_HEADER]: signStatusWebhook(target.secret, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.env.CLARION_STATUS_WEBHOOK_TIMEOUT_MS),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch (error) {
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      throw new Error(`status webhook ${job.data.webhookId}: ${(error as Error).message}`);
    }
    if (status < 200 || status >= 300) {
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      throw new Error(`status webhook ${job.data.webhookId} answered ${status}`);
    }
    this.metrics.webhookDeliveries.inc({ outcome: 'ok' });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
