import type { RedisConnection } from '@clarion/plugin-sdk';
import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { createRedis } from './client';

/** Commands from the request path (rate limits, producers): fail fast when Redis is away instead of hanging. */
export const PRODUCER_REDIS = Symbol('PRODUCER_REDIS');
/** Blocking connection for BullMQ workers: BullMQ requires maxRetriesPerRequest null. */
export const WORKER_REDIS = Symbol('WORKER_REDIS');

@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  static forRoot(env: Env): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        { provide: ENV, useValue: env },
        {
          provide: PRODUCER_REDIS,
          useFactory: () =>
            // Auto-pipelining: commands issued in the same tick by concurrent requests (quota, caps,
            // queue adds) leave in one write instead of one syscall each.
            createRedis(env, {
              enableOfflineQueue: false,
              maxRetriesPerRequest: 1,
              connectTimeout: 2000,
              enableAutoPipelining: true,
            }),
        },
        {
          provide: WORKER_REDIS,
          useFactory: () => createRedis(env, { maxRetriesPerRequest: null }),
        },
      ],
      exports: [PRODUCER_REDIS, WORKER_REDIS],
    };
  }

  constructor(
    @Inject(PRODUCER_REDIS) private readonly producer: RedisConnection,
    @Inject(WORKER_REDIS) private readonly worker: RedisConnection,
  ) {
    // Errors are reported by the calls that fail and by /readyz; don't crash on the event.
    producer.on('error', () => undefined);
    worker.on('error', () => undefined);
  }

  onApplicationShutdown(): void {
    this.producer.disconnect();
    this.worker.disconnect();
  }
}
