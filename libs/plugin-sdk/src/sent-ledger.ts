import type { Redis } from 'ioredis';
import { gateKeys } from './send-gate';

/**
 * Remembers which deliveries a provider already accepted, so a retried or recovered job
 * (worker killed after the send, before the job completed) does not send again, and which plugins
 * handed a delivery on to a fallback provider. The SendGate reads both in its claim script.
 * The remaining gap is a crash between the provider's answer and `record`: at-least-once there,
 * which no provider API without idempotency keys can close.
 */
export class SentLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  async record(deliveryId: string, providerMessageId: string | undefined): Promise<void> {
    await this.redis.set(
      gateKeys.sent(this.prefix, deliveryId),
      providerMessageId ?? '',
      'EX',
      this.ttlSeconds,
    );
  }

  /**
   * Records that `plugin` handed the delivery on, and why. Written before the host hears of the
   * reroute, so if the old job runs again (its worker died, or the host's write failed) it hands the
   * delivery on again instead of sending it.
   */
  async release(deliveryId: string, plugin: string, cause: string): Promise<void> {
    const key = gateKeys.released(this.prefix, deliveryId);
    await this.redis.multi().hset(key, plugin, cause).expire(key, this.ttlSeconds).exec();
  }
}
