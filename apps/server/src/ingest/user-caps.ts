import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { type CapRule, capRuleId, matchingCaps } from '../apps/cap-rules';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { isCritical } from '../preferences/delivery-policy';
import { KeyLayout } from '../redis/key-layout';
import { PRODUCER_REDIS } from '../redis/redis.module';
import type { PlanContext } from './planner';

/** setTimeout's ceiling (2^31-1 ms), in whole seconds. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** One cap to take for one user × channel, and the window it is trying. */
interface Ask {
  group: DeliveryPlan[];
  rule: CapRule;
  userId: string;
  firstWindow: number;
  window: number;
  granted: boolean;
}

/**
 * Per-user frequency caps from app settings, counted in Redis by rate-limiter-flexible (one
 * atomic INCR script per key, so concurrent requests cannot let a burst through). Counters are
 * per fixed window aligned to the epoch; a `defer` rule looks for room in the following windows
 * (up to CLARION_CAP_DEFER_MAX_WINDOWS) and holds the delivery until that window opens.
 * Everything for a batch of plans is consumed concurrently (ioredis pipelines the commands),
 * one round per window tried: never a round trip per delivery, never a database query.
 */
@Injectable()
export class UserCaps {
  private readonly limiters = new Map<string, RateLimiterRedis>();
  private readonly layout: KeyLayout;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(PRODUCER_REDIS) private readonly redis: RedisConnection,
    private readonly metrics: DeliveryMetrics,
  ) {
    this.layout = new KeyLayout(env);
  }

  /**
   * Marks the pending plans over a cap `rate_limited` (suppressed) or holds them for a later window.
   * Returns an undo that gives the slots back, for a request that ends up storing nothing (a
   * repeated eventId, a failed write).
   */
  async apply(ctx: PlanContext, plans: DeliveryPlan[]): Promise<() => Promise<void>> {
    const none = async () => undefined;
    const rules = ctx.settings.rateLimits;
    const category = ctx.request.category ?? null;
    if (rules.length === 0 || isCritical(ctx.settings, category)) return none;

    // A push to three devices is one notification to the user: count per user × channel.
    const groups = Map.groupBy(
      plans.filter((p) => p.status === 'pending' && p.userId !== null),
      (p) => `${p.userId}\u0000${p.channel}`,
    );
    const sendAt = ctx.request.sendAt ? Date.parse(ctx.request.sendAt) : 0;
    const asks: Ask[] = [];
    for (const group of groups.values()) {
      const first = group[0]!;
      const dueAt = Math.max(Date.now(), sendAt, first.hold ? Date.parse(first.hold.until) : 0);
      for (const rule of matchingCaps(rules, first.channel, category)) {
        const window = Math.floor(dueAt / (rule.perSeconds * 1000));
        asks.push({ group, rule, userId: first.userId!, firstWindow: window, window, granted: false });
      }
    }
    if (asks.length === 0) return none;

    await this.round(ctx.appId, asks);
    // A group over a `suppress` cap is done; groups over only `defer` caps try the next windows.
    const doomed = new Set<DeliveryPlan[]>(
      asks.filter((a) => !a.granted && a.rule.overflow === 'suppress').map((a) => a.group),
    );
    for (let k = 1; k <= this.env.CLARION_CAP_DEFER_MAX_WINDOWS; k++) {
      const retry = asks.filter((a) => !a.granted && !doomed.has(a.group));
      if (retry.length === 0) break;
      for (const a of retry) a.window++;
      await this.round(ctx.appId, retry);
    }

    const byGroup = new Map<DeliveryPlan[], Ask[]>();
    for (const a of asks) byGroup.set(a.group, [...(byGroup.get(a.group) ?? []), a]);
    const refunds: Ask[] = [];
    for (const [group, list] of byGroup) {
      if (list.every((a) => a.granted) && !doomed.has(group)) {
        const late = list.filter((a) => a.window > a.firstWindow);
        if (late.length === 0) continue;
        const opens = Math.max(...late.map((a) => a.window * a.rule.perSeconds * 1000));
        this.metrics.rateLimitHits.inc({ scope: 'user_cap_deferred' });
        for (const p of group) {
          if (p.hold && Date.parse(p.hold.until) >= opens) continue;
          p.hold = { until: new Date(opens).toISOString(), reason: 'rate_limit_deferred' };
          p.reason = p.hold.reason;
        }
        continue;
      }
      // Over a cap: suppress the whole user × channel, and give back what the other caps granted.
      refunds.push(...list.filter((a) => a.granted));
      this.metrics.rateLimitHits.inc({ scope: 'user_cap' });
      for (const p of group) {
        p.status = 'suppressed';
        p.reason = 'rate_limited';
        p.job = null;
        delete p.hold;
      }
    }
    await this.refund(ctx.appId, refunds);
    const kept = asks.filter((a) => a.granted && !refunds.includes(a));
    return () => this.refund(ctx.appId, kept);
  }

  private async refund(appId: string, asks: Ask[]): Promise<void> {
    await Promise.all(asks.map((a) => this.limiter(a.rule).reward(this.key(appId, a), 1)));
  }

  private async round(appId: string, asks: Ask[]): Promise<void> {
    await Promise.all(
      asks.map(async (a) => {
        const limiter = this.limiter(a.rule);
        try {
          await limiter.consume(this.key(appId, a), 1);
          a.granted = true;
        } catch (rejection) {
          if (!(rejection instanceof RateLimiterRes)) throw rejection;
          a.granted = false;
          // A refused consume still counted; take it back so the counter is what was granted
          // (or a slot refunded later would stay taken). Never over-grants: a consume is only
          // granted when granted + refused-in-flight + 1 <= max.
          await limiter.reward(this.key(appId, a), 1);
        }
      }),
    );
  }

  private key(appId: string, a: Ask): string {
    return this.layout.userKey(appId, a.userId, capRuleId(a.rule), a.window);
  }

  /**
   * One limiter per (max, window length). Its key lifetime spans every window a deferral may
   * reach, so a slot reserved in a later window outlives the current one. If Redis is away the
   * in-process insurance limiter keeps counting (per process) rather than letting everything through.
   */
  private limiter(rule: CapRule): RateLimiterRedis {
    const id = `${rule.max}|${rule.perSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      const duration = rule.perSeconds * (this.env.CLARION_CAP_DEFER_MAX_WINDOWS + 1);
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: this.layout.counterPrefix('cap'),
        points: rule.max,
        duration,
        rejectIfRedisNotReady: true,
        // The in-memory limiter expires keys with setTimeout, which cannot wait more than ~24.8 days.
        insuranceLimiter: new RateLimiterMemory({
          keyPrefix: 'cap',
          points: rule.max,
          duration: Math.min(duration, MAX_TIMER_SECONDS),
        }),
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
