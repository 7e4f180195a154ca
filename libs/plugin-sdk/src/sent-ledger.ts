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

  private ownerKey(deliveryId: string): string {
    return `${this.prefix}:owner:${deliveryId}`;
  }

  /**
   * Both facts a job needs before sending, in one round trip: whether the delivery was already
   * sent (by any provider), and which plugin owns it now (null: never rerouted, the first one).
   */
  async state(deliveryId: string): Promise<{ sent: string | null; owner: string | null }> {
    const [sent, owner] = await this.redis.mget(this.key(deliveryId), this.ownerKey(deliveryId));
    return { sent: sent ?? null, owner: owner ?? null };
  }

  /**
   * Hands the delivery to another plugin. Written before the host hears of the reroute, so if the
   * old job runs again (its worker died before completing it) it sees it is no longer the owner.
   */
  async transfer(deliveryId: string, toPlugin: string): Promise<void> {
    await this.redis.set(this.ownerKey(deliveryId), toPlugin, 'EX', this.ttlSeconds);
  }
}
