import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { PluginWorkers } from '../delivery/plugin-workers';
import { PRODUCER_REDIS } from '../redis/redis.module';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

/** `/healthz`: the process answers (liveness). `/readyz`: database, Redis and every plugin this process runs. */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly db: DataSource,
    @Inject(PRODUCER_REDIS) private readonly redis: Redis,
    @Optional() private readonly workers?: PluginWorkers,
  ) {}

  @Get('healthz')
  alive() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HealthCheck()
  ready() {
    return this.health.check([
      async () => {
        const check = this.indicator.check('database');
        try {
          await withTimeout(this.db.query('SELECT 1'), 2000);
          return check.up();
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        const check = this.indicator.check('redis');
        try {
          await withTimeout(this.redis.ping(), 2000);
          return check.up();
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        const check = this.indicator.check('plugins');
        const states = this.workers?.health() ?? {};
        const unhealthy = Object.entries(states).filter(([, h]) => !h.healthy);
        return unhealthy.length === 0 ? check.up({ plugins: states }) : check.down({ plugins: states });
      },
    ]);
  }
}
