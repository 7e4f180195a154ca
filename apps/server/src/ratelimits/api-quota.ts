import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppSettings } from '../apps/app-settings';
import type { AuthContext } from '../apps/auth-context';
import { ApiError } from '../common/api-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { Batcher } from '../database/batcher';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { KeyLayout } from '../redis/key-layout';
import { PRODUCER_REDIS } from '../redis/redis.module';

interface QuotaAsk {
  limit: number;
  windowSeconds: number;
  key: string;
}

/** One call's share of a batched consume. */
interface QuotaAnswer {
  allowed: boolean;
  remaining: number;
  msBeforeNext: number;
}

/**
 * Per-key API quota on every authenticated /v1 call, counted in Redis by rate-limiter-flexible.
 * Answers carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the
 * window resets) and `RateLimit-Policy` as in the IETF draft draft-ietf-httpapi-ratelimit-headers
 * (the separate-fields form); over the quota a 429 adds `Retry-After`. A client key is shared by
 * every install of an app, so its quota counts per signed-in user.
 *
 * Concurrent calls with one key are counted together: one `consume(key, n)` per key per batch
 * instead of a Redis script per request. The n calls then get the n consecutive counts, in
 * arrival order, exactly as n single consumes would have.
 */
@Injectable()
export class ApiQuota {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly batcher = new Batcher<QuotaAsk, QuotaAnswer>((asks) => this.consumeAll(asks), {
    maxItems: 500,
    maxWaitMs: 1,
    concurrency: 4,
  });

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    private readonly metrics: DeliveryMetrics,
  ) {}

  async enforce(auth: AuthContext, settings: AppSettings | undefined, reply: FastifyReply): Promise<void> {
    const answer = await this.take(auth, settings);
    void reply.header('RateLimit-Limit', String(answer.limit));
    void reply.header('RateLimit-Remaining', String(answer.remaining));
    void reply.header('RateLimit-Reset', String(answer.reset));
    void reply.header('RateLimit-Policy', `${answer.limit};w=${answer.windowSeconds}`);
    if (!answer.allowed) {
      void reply.header('Retry-After', String(answer.reset));
      throw this.refusal(answer);
    }
  }

  /** One more call's worth for an item of a batch: each item counts as the single request it stands for. */
  async enforceItem(auth: AuthContext, settings: AppSettings | undefined): Promise<void> {
    const answer = await this.take(auth, settings);
    if (!answer.allowed) throw this.refusal(answer);
  }

  private async take(auth: AuthContext, settings: AppSettings | undefined) {
    const limit = settings?.apiQuota?.limit ?? this.env.CLARION_API_QUOTA;
    const windowSeconds = settings?.apiQuota?.windowSeconds ?? this.env.CLARION_API_QUOTA_WINDOW_SECONDS;
    const key = auth.kind === 'client' ? `${auth.keyId}:${auth.userExternalId}` : auth.keyId;
    const { allowed, remaining, msBeforeNext } = await this.batcher.submit({ limit, windowSeconds, key });
    return { allowed, remaining, limit, windowSeconds, reset: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
  }

  private refusal({ limit, windowSeconds, reset }: { limit: number; windowSeconds: number; reset: number }) {
    this.metrics.rateLimitHits.inc({ scope: 'api_quota' });
    return new ApiError(
      429,
      'rate_limited',
      `this key is over its quota of ${limit} requests per ${windowSeconds} s; retry in ${reset} s`,
      { limit, windowSeconds, retryAfterSeconds: reset },
    );
  }

  /** One consume per (quota, key); its total is handed out to the asks in order. */
  private async consumeAll(asks: QuotaAsk[]): Promise<QuotaAnswer[]> {
    const groups = Map.groupBy(
      asks.keys(),
      (i) => `${asks[i]!.limit}|${asks[i]!.windowSeconds}|${asks[i]!.key}`,
    );
    const answers: QuotaAnswer[] = new Array(asks.length);
    await Promise.all(
      [...groups.values()].map(async (indexes) => {
        const { limit, windowSeconds, key } = asks[indexes[0]!]!;
        let res: RateLimiterRes;
        try {
          res = await this.limiter(limit, windowSeconds).consume(key, indexes.length);
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          res = rejection; // over the limit for some (or all) of this group
        }
        const before = res.consumedPoints - indexes.length;
        indexes.forEach((index, k) => {
          const consumed = before + k + 1;
          answers[index] = {
            allowed: consumed <= limit,
            remaining: Math.max(0, limit - consumed),
            msBeforeNext: res.msBeforeNext,
          };
        });
      }),
    );
    return answers;
  }

  private limiter(points: number, duration: number): RateLimiterRedis {
    const id = `${points}|${duration}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: new KeyLayout(this.env).counterPrefix(`quota:${id}`),
        points,
        duration,
        rejectIfRedisNotReady: true,
        // Redis away: keep limiting per process instead of failing every request.
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `quota:${id}`, points, duration }),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
