import type { RedisConnection } from '@clarion/plugin-sdk';
import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { ping } from '../database/ping';
import { PRODUCER_REDIS } from '../redis/redis.module';
import { PluginWorkers } from '../workers/plugin-workers';
import { ShutdownState } from './shutdown-state';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref(),
    ),
  ]);

/**
 * `/healthz`: the process answers (liveness). `/readyz`: not stopping, and the database (the API
 * accepts durably with PostgreSQL alone: a Redis blip must not take every API pod out of the
 * Service); a worker also needs Redis and every plugin it runs. Redis seen from the API is for
 * metrics and alerts.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly db: DataSource,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    @Inject(ENV) private readonly env: Env,
    private readonly shutdown: ShutdownState,
    @Optional() private readonly workers?: PluginWorkers,
  ) {}

  @Get('healthz')
  alive() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @HealthCheck()
  ready() {
    const worker = this.env.CLARION_ROLE !== 'api';
    return this.health.check([
      async () => {
        const check = this.indicator.check('shutdown');
        return this.shutdown.stopping ? check.down({ message: 'stopping' }) : check.up();
      },
      async () => {
        const check = this.indicator.check('database');
        try {
          await withTimeout(ping(this.db), 2000);
          return check.up();
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      ...(worker
        ? [
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
          ]
        : []),
    ]);
  }
}
