import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { ApiError } from '../common/api-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { KeyLayout } from '../redis/key-layout';
import { PRODUCER_REDIS } from '../redis/redis.module';

const DAY_SECONDS = 24 * 3600;

/**
 * How many SMS a client key may cause for one user in 24 hours (app setting `clientSmsPerDay`).
 * SMS costs money per message: a client key, shipped in every copy of the app, must not be
 * able to spend it without bound even on templates the app allows.
 */
@Injectable()
export class ClientSmsBudget {
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    private readonly metrics: DeliveryMetrics,
  ) {}

  /** Takes `count` SMS from the user's budget, or refuses with 429; returns the undo for a request that then fails. */
  async take(appId: string, userId: string, count: number, perDay: number): Promise<() => Promise<void>> {
    const key = `${appId}:${userId}`;
    const refuse = (msBeforeNext: number) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
      this.metrics.rateLimitHits.inc({ scope: 'client_sms' });
      return new ApiError(
        429,
        'rate_limited',
        `this user's SMS budget for client keys (${perDay} per 24 h) is spent; retry in ${retryAfterSeconds} s`,
        { limit: perDay, windowSeconds: DAY_SECONDS, retryAfterSeconds },
      );
    };
    if (count > perDay) throw refuse(DAY_SECONDS * 1000);
    const limiter = this.limiter(perDay);
    try {
      await limiter.consume(key, count);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // Over: give back what this request took, so only granted SMS count.
      await limiter.reward(key, count).catch(() => undefined);
      throw refuse(rejection.msBeforeNext);
    }
    return async () => {
      await limiter.reward(key, count);
    };
  }

  private limiter(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: new KeyLayout(this.env).counterPrefix(`client-sms:${points}`),
        points,
        duration: DAY_SECONDS,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({
          keyPrefix: `client-sms:${points}`,
          points,
          duration: DAY_SECONDS,
        }),
      });
      this.limiters.set(points, limiter);
    }
    return limiter;
  }
}
