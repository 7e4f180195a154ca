import { pluginQueueName, type RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { KeyLayout } from '../redis/key-layout';
import { PRODUCER_REDIS } from '../redis/redis.module';

/** One BullMQ producer per plugin queue, created on first use, sharing the fail-fast producer connection. */
@Injectable()
export class QueueRegistry implements OnModuleDestroy {
  private readonly queues = new Map<string, Queue>();
  private readonly layout: KeyLayout;

  constructor(
    @Inject(PRODUCER_REDIS) private readonly connection: RedisConnection,
    @Inject(ENV) env: Env,
  ) {
    this.layout = new KeyLayout(env);
  }

  forPlugin(plugin: string): Queue {
    return this.named(pluginQueueName(plugin));
  }

  named(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.layout.queue(name) });
      queue.on('error', () => undefined); // connection errors surface on the calls that fail
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
