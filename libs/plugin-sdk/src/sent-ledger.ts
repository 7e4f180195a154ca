import type { Redis } from 'ioredis';

/**
 * Remembers which deliveries a provider already accepted, so a retried or recovered job
 * (worker killed after the send, before the job completed) does not send again.
 * The remaining gap is a crash between the provider's answer and this write: at-least-once
 * there, which no provider API without idempotency keys can close.
 */
export class SentLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  private key(deliveryId: string): string {
    return `${this.prefix}:sent:${deliveryId}`;
  }

  /** The provider message id recorded for this delivery, or null if it was never sent. */
  async lookup(deliveryId: string): Promise<string | null> {
    return this.redis.get(this.key(deliveryId));
  }

  async record(deliveryId: string, providerMessageId: string | undefined): Promise<void> {
    await this.redis.set(this.key(deliveryId), providerMessageId ?? '', 'EX', this.ttlSeconds);
  }

  private releasedKey(deliveryId: string): string {
    return `${this.prefix}:released:${deliveryId}`;
  }

  /**
   * Both facts a job needs before sending, in one round trip: whether the delivery was already
   * sent (by any provider), and whether `plugin` already handed it on (and why).
   */
  async state(deliveryId: string, plugin: string): Promise<{ sent: string | null; released: string | null }> {
    const replies = await this.redis.multi().get(this.key(deliveryId)).hget(this.releasedKey(deliveryId), plugin).exec();
    if (!replies) throw new Error('sent ledger: transaction aborted');
    const [[sentError, sent], [releasedError, released]] = replies as [[Error | null, string | null], [Error | null, string | null]];
    if (sentError || releasedError) throw sentError ?? releasedError;
    return { sent: sent ?? null, released: released ?? null };
  }

  /**
   * Records that `plugin` handed the delivery on, and why. Written before the host hears of the
   * reroute, so if the old job runs again (its worker died, or the host's write failed) it hands the
   * delivery on again instead of sending it.
   */
  async release(deliveryId: string, plugin: string, cause: string): Promise<void> {
    await this.redis.multi().hset(this.releasedKey(deliveryId), plugin, cause).expire(this.releasedKey(deliveryId), this.ttlSeconds).exec();
  }
}
