import type { RedisConnection } from '@clarion/plugin-sdk';
import { guardedUndiciAgent, outboundRefusal } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { type Agent, request } from 'undici';
import { outboundPolicyOf } from '../../common/outbound-urls';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { WORKER_REDIS } from '../../redis/redis.module';
import { QueueWorkerHost } from '../../workers/queue-worker-host';
import { TrackingMetrics } from '../tracking-metrics';
import { STATUS_WEBHOOK_QUEUE, type StatusWebhookJob } from './status-webhook-dispatcher';
import { StatusWebhooks } from './status-webhooks.service';
import { SIGNATURE_HEADER, signStatusWebhook } from './webhook-signature';

/**
 * Worker role: posts status events to the app's URLs, signed. A non-2xx answer or a network
 * error fails the attempt and BullMQ retries it with exponential backoff; a deleted webhook
 * ends the job quietly. Connections go through the outbound guard: a URL that resolves to an
 * address the policy refuses fails at once, without retries.
 */
@Injectable()
export class StatusWebhookWorker extends QueueWorkerHost<StatusWebhookJob, void> {
  private agent: Agent | undefined;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(WORKER_REDIS) connection: RedisConnection,
    private readonly hooks: StatusWebhooks,
    private readonly metrics: TrackingMetrics,
  ) {
    super({ queue: STATUS_WEBHOOK_QUEUE, name: 'status-webhooks', concurrency: 20 }, connection, env);
  }

  override onApplicationBootstrap(): void {
    this.agent = guardedUndiciAgent(
      { connections: 20, keepAliveTimeout: 30_000 },
      outboundPolicyOf(this.env),
    );
    super.onApplicationBootstrap();
  }

  protected async process(job: Job<StatusWebhookJob>): Promise<void> {
    const target = await this.hooks.target(job.data.webhookId);
    if (!target) return;
    const body = JSON.stringify({ ...job.data.event, attempt: job.attemptsMade + 1 });
    let status = 0;
    const timeout = this.env.CLARION_STATUS_WEBHOOK_TIMEOUT_MS;
    try {
      const res = await request(target.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Clarion-Status-Webhook/1',
          'clarion-event-id': job.data.event.id,
          [SIGNATURE_HEADER]: signStatusWebhook(target.secret, body),
        },
        body,
        signal: AbortSignal.timeout(timeout),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      status = res.statusCode;
      await res.body.dump();
    } catch (error) {
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      const refusal = outboundRefusal(error);
      if (refusal) throw new UnrecoverableError(`status webhook ${job.data.webhookId}: ${refusal.message}`);
      throw new Error(`status webhook ${job.data.webhookId}: ${(error as Error).message}`);
    }
    if (status < 200 || status >= 300) {
      this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
      throw new Error(`status webhook ${job.data.webhookId} answered ${status}`);
    }
    this.metrics.webhookDeliveries.inc({ outcome: 'ok' });
  }

  override async onApplicationShutdown(): Promise<void> {
    await super.onApplicationShutdown();
    await this.agent?.close();
  }
}
