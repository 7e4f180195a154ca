import type { Priority } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { QueueRegistry } from '../delivery/queue-registry';
import { FANOUT_QUEUE } from './fanout.constants';
import type { FanoutJobData } from './fanout-job';
import { fanoutJobOptions } from './fanout-job';

/**
 * The producer side of the fan-out queue: the request path starts a fan-out, the relay starts it
 * again, a cancel removes it (the notification no longer `fanout` stops a run already going).
 */
@Injectable()
export class FanoutQueue {
  constructor(private readonly queues: QueueRegistry) {}

  queue(): Queue {
    return this.queues.named(FANOUT_QUEUE);
  }

  /** Adds the notification's fan-out job (job id = notification id: adding it twice is one job). Rejects when Redis is away. */
  async start(notificationId: string, appId: string, priority: Priority, delayMs: number): Promise<void> {
    const data: FanoutJobData = { notificationId, appId };
    await this.queue().add('fanout', data, fanoutJobOptions(notificationId, priority, delayMs));
  }

  /** Removes a fan-out job that is waiting or delayed (1), or leaves a running one to see the cancel (0). */
  remove(notificationId: string): Promise<number> {
    return this.queue().remove(notificationId);
  }
}
