import type { RedisConnection } from './redis-connection';
import { gateKeys } from './send-gate';
import { TurnBatcher } from './turn-batcher';

/** What bounds how long after a send the same delivery's job can still run again. */
export interface RerunWindow {
  /** The job's attempts (BullMQ `attempts`). */
  attempts: number;
  /** The longest backoff between two attempts. */
  maxBackoffMs: number;
  /** BullMQ lock duration and stalled-check interval: how long a dead worker's job takes to run again. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How many times a job may lose its worker and still run again. */
  maxStalledCount: number;
}

/** Sets each key (KEYS[i]) to its provider message id (ARGV[i + 1]) for ARGV[1] seconds. */
const RECORD = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'EX', ARGV[1])
end
return #KEYS
`;

type RecordCommand = (keyCount: number, ...keysThenArgs: string[]) => Promise<number>;

const MAX_MARKS_PER_SCRIPT = 500;

/** Never remember for less than this: it also covers the sweeper's re-add racing a send (seconds). */
const MIN_TTL_SECONDS = 3600;

/**
 * How long the ledger must remember a sent (or handed-on) delivery. After the provider accepted
 * it, the job runs again only if the status write or the job's completion failed: once per
 * remaining attempt (each after at most `maxBackoffMs`; a provider's Retry-After plays no part,
 * the provider already said yes) and once per allowed stall. Twice that span, at least an hour.
 * Not a fixed long TTL: at the scale Clarion is sized for (16 M deliveries a day, about 200 bytes
 * per key) 7 days would be over 20 GB of Redis; with the default processor settings this is under
 * 3 hours' worth.
 */
export function sentLedgerTtlSeconds(w: RerunWindow): number {
  const retries = Math.max(0, w.attempts - 1) * w.maxBackoffMs;
  const stalls = (w.maxStalledCount + 1) * (w.lockDurationMs + w.stalledIntervalMs);
  return Math.max(MIN_TTL_SECONDS, Math.ceil((2 * (retries + stalls)) / 1000));
}

/**
 * Remembers which deliveries a provider already accepted, so a retried or recovered job
 * (worker killed after the send, before the job completed) does not send again, and which plugins
 * handed a delivery on to a fallback provider. The SendGate reads both in its claim script. For
 * sends it is a cache of the host's durable record (DeliveryRecords): a mark here means sent, its
 * absence is checked there, since Redis can lose writes.
 * The remaining gap is a crash between the provider's answer and `record`: at-least-once there,
 * which no provider API without idempotency keys can close.
 */
export class SentLedger {
  /** The marks noted in one turn of the event loop, written by one script (as SendGate's claims). */
  private readonly marks: TurnBatcher<{ deliveryId: string; providerMessageId: string }, void>;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    /** How long each mark lives: sentLedgerTtlSeconds of the jobs this ledger serves. */
    readonly ttlSeconds: number,
  ) {
    const commands = redis as unknown as { clarionSentLedgerRecord?: RecordCommand };
    if (!commands.clarionSentLedgerRecord) redis.defineCommand('clarionSentLedgerRecord', { lua: RECORD });
    const script = commands.clarionSentLedgerRecord!.bind(redis);
    this.marks = new TurnBatcher(async (batch) => {
      const keys = batch.map((m) => gateKeys.sent(this.prefix, m.deliveryId));
      await script(keys.length, ...keys, String(this.ttlSeconds), ...batch.map((m) => m.providerMessageId));
      return batch.map((): void => undefined);
    }, MAX_MARKS_PER_SCRIPT);
  }

  record(deliveryId: string, providerMessageId: string | undefined): Promise<void> {
    return this.marks.submit({ deliveryId, providerMessageId: providerMessageId ?? '' });
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
