import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';
import { PRODUCER_REDIS } from '../redis/redis.module';

/**
 * `clarion_redis_up`: whether this process reaches Redis, asked at scrape time. The API stays
 * ready while Redis is away (it accepts into PostgreSQL), so this gauge and its alert
 * (ClarionRedisDown) are where a Redis outage shows up for the API.
 */
@Injectable()
export class RedisMetrics implements OnModuleInit {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
  ) {}

  onModuleInit(): void {
    if (this.registry.getSingleMetric('clarion_redis_up')) return;
    const redis = this.redis;
    new Gauge({
      name: 'clarion_redis_up',
      help: 'Whether this process reaches Redis (PING answered within a second)',
      registers: [this.registry],
      async collect() {
        const answered = await Promise.race([
          redis.ping().then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
        ]);
        this.set(answered ? 1 : 0);
      },
    });
  }
}
