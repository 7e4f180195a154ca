import type { RedisConnection } from './redis-connection';
import { TurnBatcher } from './turn-batcher';

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

// For each delivery (four keys each): the sent ledger first (a sent delivery stays sent), then
// whether this plugin already handed it to a fallback provider, then the cancel mark, then claim
// "in flight". One script, so a cancel either finds the delivery in flight or stops it here: never
// both missed. It answers two values per delivery: the decision and its detail.
const CLAIM = `
local out = {}
for i = 0, #KEYS / 4 - 1 do
  local k = i * 4
  local kind, value = 'send', ''
  local sent = redis.call('GET', KEYS[k + 1])
  if sent then
    kind, value = 'sent', sent
  else
    local released = redis.call('HGET', KEYS[k + 4], ARGV[i + 2])
    if released then
      kind, value = 'released', released
    elseif redis.call('EXISTS', KEYS[k + 2]) == 1 then
      kind = 'canceled'
    else
      redis.call('SET', KEYS[k + 3], '1', 'PX', ARGV[1])
    end
  end
  out[#out + 1] = kind
  out[#out + 1] = value
end
return out
`;

/** The claim script as a defined ioredis command: how many keys, the keys, then its arguments. */
type ClaimCommand = (keyCount: number, ...keysThenArgs: string[]) => Promise<string[]>;

interface Claim {
  deliveryId: string;
  notificationId: string;
  plugin: string;
}

/** Deliveries claimed by one script at most: 800 keys, well within what Redis takes in one call. */
const MAX_CLAIMS_PER_SCRIPT = 200;

/**
 * The runtime's check before every send (it replaces the sent ledger's lookup). The claims made in
 * one turn of the event loop (a batch job's deliveries, the jobs of one fetch) go to Redis as one
 * script (TurnBatcher): one command for many deliveries, where one each cost the worker about
 * 4.6 µs and Redis 2 µs more per delivery. All keys share the queue prefix, a Redis Cluster hash
 * tag, so they live in one slot. The in-flight mark is not deleted after the send but expires: it
 * must outlive the status write (a cancel that saw no mark could otherwise overwrite a fresh
 * `sent`), and a delivery still marked when canceled is stopped at its next attempt by the cancel
 * mark anyway.
 */
export class SendGate {
  private readonly claims: TurnBatcher<Claim, GateDecision>;

  constructor(
    redis: RedisConnection,
    private readonly prefix: string,
    private readonly inFlightTtlMs = 120_000,
  ) {
    // A defined command runs by EVALSHA (the script is sent once, not with every call).
    const commands = redis as unknown as { clarionSendGateClaims?: ClaimCommand };
    if (!commands.clarionSendGateClaims) redis.defineCommand('clarionSendGateClaims', { lua: CLAIM });
    const script = commands.clarionSendGateClaims!.bind(redis);
    this.claims = new TurnBatcher((batch) => this.run(script, batch), MAX_CLAIMS_PER_SCRIPT);
  }

  claim(deliveryId: string, notificationId: string, plugin: string): Promise<GateDecision> {
    return this.claims.submit({ deliveryId, notificationId, plugin });
  }

  private async run(script: ClaimCommand, batch: Claim[]): Promise<GateDecision[]> {
    const keys = batch.flatMap((c) => [
      gateKeys.sent(this.prefix, c.deliveryId),
      gateKeys.canceled(this.prefix, c.notificationId),
      gateKeys.inFlight(this.prefix, c.deliveryId),
      gateKeys.released(this.prefix, c.deliveryId),
    ]);
    const answer = await script(
      keys.length,
      ...keys,
      String(this.inFlightTtlMs),
      ...batch.map((c) => c.plugin),
    );
    return batch.map((_, i) => decision(answer[2 * i], answer[2 * i + 1] ?? ''));
  }
}

function decision(kind: string | undefined, value: string): GateDecision {
  if (kind === 'send') return { kind: 'send' };
  if (kind === 'sent') return { kind: 'sent', providerMessageId: value };
  if (kind === 'released') return { kind: 'released', cause: value };
  if (kind === 'canceled') return { kind: 'canceled' };
  // Never read a short or strange answer as leave to send.
  throw new Error(`send gate: unexpected answer ${String(kind)}`);
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
