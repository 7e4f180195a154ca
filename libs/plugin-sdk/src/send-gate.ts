import type { RedisConnection } from './redis-connection';

/** What the runtime may do with a delivery it is about to send. */
export type GateDecision =
  | { kind: 'send' }
  /** The provider already accepted it (a retried or recovered job): record it again, never resend. */
  | { kind: 'sent'; providerMessageId: string }
  /** Its notification was canceled: report it canceled, never send. */
  | { kind: 'canceled' }
  /** This plugin already handed the delivery to a fallback provider (and why): hand it on again, never send. */
  | { kind: 'released'; cause: string };

/**
 * Keys shared by the worker side (SendGate) and the host's cancel path (CancelMarks). All start
 * with the queue prefix, a Redis Cluster hash tag, so the claim script's keys share one slot.
 */
export const gateKeys = {
  sent: (prefix: string, deliveryId: string) => `${prefix}:sent:${deliveryId}`,
  canceled: (prefix: string, notificationId: string) => `${prefix}:canceled:${notificationId}`,
  inFlight: (prefix: string, deliveryId: string) => `${prefix}:inflight:${deliveryId}`,
  /** Hash plugin → cause: the plugins that handed this delivery on (provider fallback). */
  released: (prefix: string, deliveryId: string) => `${prefix}:released:${deliveryId}`,
};

// Sent ledger first (a sent delivery stays sent), then whether this plugin already handed it to a
// fallback provider, then the cancel mark, then claim "in flight". One script, so a cancel either
// finds the delivery in flight or stops it here: never both missed.
const CLAIM = `
local sent = redis.call('GET', KEYS[1])
if sent then return {'sent', sent} end
local released = redis.call('HGET', KEYS[4], ARGV[2])
if released then return {'released', released} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'canceled', ''} end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[1])
return {'send', ''}
`;

/** The claim script as a defined ioredis command (its keys, then its arguments). */
type ClaimCommand = (
  sentKey: string,
  canceledKey: string,
  inFlightKey: string,
  releasedKey: string,
  ttlMs: string,
  plugin: string,
) => Promise<[string, string]>;

/**
 * The runtime's check before every send: one Redis round trip (it replaces the sent ledger's
 * lookup). The in-flight mark is not deleted after the send but expires: it must outlive the
 * status write (a cancel that saw no mark could otherwise overwrite a fresh `sent`), and a
 * delivery still marked when canceled is stopped at its next attempt by the cancel mark anyway.
 */
export class SendGate {
  private readonly claimScript: ClaimCommand;

  constructor(
    redis: RedisConnection,
    private readonly prefix: string,
    private readonly inFlightTtlMs = 120_000,
  ) {
    // A defined command runs by EVALSHA (the script is sent once, not with every delivery).
    const commands = redis as unknown as { clarionSendGateClaim?: ClaimCommand };
    if (!commands.clarionSendGateClaim)
      redis.defineCommand('clarionSendGateClaim', { numberOfKeys: 4, lua: CLAIM });
    this.claimScript = commands.clarionSendGateClaim!.bind(redis);
  }

  async claim(deliveryId: string, notificationId: string, plugin: string): Promise<GateDecision> {
    const [kind, value] = await this.claimScript(
      gateKeys.sent(this.prefix, deliveryId),
      gateKeys.canceled(this.prefix, notificationId),
      gateKeys.inFlight(this.prefix, deliveryId),
      gateKeys.released(this.prefix, deliveryId),
      String(this.inFlightTtlMs),
      plugin,
    );
    if (kind === 'sent') return { kind: 'sent', providerMessageId: value };
    if (kind === 'released') return { kind: 'released', cause: value };
    if (kind === 'canceled') return { kind: 'canceled' };
    return { kind: 'send' };
  }
}

/**
 * The host's side of cancellation. `mark` is set before anything else changes, so from then on
 * no delivery of the notification starts; `inFlight` then says which ones had already started.
 */
export class CancelMarks {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    /** Outlives any retry backoff of a delivery that was in flight at cancel time. */
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  /**
   * Marks the notification canceled. `lastDue`: the latest time a job of it is set to run (its
   * `sendAt`, a delivery held for quiet hours or a cap); the mark outlives that by the usual TTL,
   * or a job that escaped removal would find the mark gone when it finally ran, and send.
   */
  async mark(notificationId: string, lastDue?: Date): Promise<void> {
    const untilDue = lastDue ? Math.max(0, Math.ceil((lastDue.getTime() - Date.now()) / 1000)) : 0;
    await this.redis.set(
      gateKeys.canceled(this.prefix, notificationId),
      '1',
      'EX',
      this.ttlSeconds + untilDue,
    );
  }

  /** Undo a mark whose cancel could not complete. */
  async unmark(notificationId: string): Promise<void> {
    await this.redis.del(gateKeys.canceled(this.prefix, notificationId));
  }

  async isMarked(notificationId: string): Promise<boolean> {
    return (await this.redis.exists(gateKeys.canceled(this.prefix, notificationId))) === 1;
  }

  /** Which of these deliveries a worker has started (one MGET per 1,000 ids). */
  async inFlight(deliveryIds: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < deliveryIds.length; i += 1000) {
      const ids = deliveryIds.slice(i, i + 1000);
      const values = await this.redis.mget(...ids.map((id) => gateKeys.inFlight(this.prefix, id)));
      values.forEach((v, j) => {
        if (v !== null) out.add(ids[j]!);
      });
    }
    return out;
  }
}
