import { TurnBatcher } from './turn-batcher';

/** What the host's durable store (Clarion: PostgreSQL) says about one delivery. */
export interface DeliveryRecord {
  /** A provider accepted it (recorded with its `sent` status, and kept whatever came later). */
  sent: boolean;
  providerMessageId?: string;
  /** It may still be sent (`pending` or `queued`); false once it ended, sent or not. */
  open: boolean;
  /** The plugin that owns it now: another one once it was handed to a fallback provider. */
  plugin?: string;
}

/**
 * The host's durable record, read by the runtime before every send. Redis (the send gate) is only
 * its cache: a Redis "sent" mark means sent, but Redis can lose marks (a failover to a lagging
 * replica, a restore of an older snapshot), so its silence is confirmed here before a send.
 */
export interface DeliveryRecords {
  /** The records of those of these deliveries the host knows; one round trip for all of them. */
  lookup(deliveryIds: readonly string[]): Promise<ReadonlyMap<string, DeliveryRecord>>;
}

/**
 * Gathers the lookups of concurrent jobs into one `DeliveryRecords.lookup` call (TurnBatcher):
 * a busy worker pays one database round trip per batch of jobs, an idle one no added wait.
 */
export class BatchedRecordLookup {
  private readonly batcher: TurnBatcher<string, DeliveryRecord | undefined>;

  constructor(records: DeliveryRecords, maxBatch = 1000, concurrency = 2) {
    this.batcher = new TurnBatcher(
      async (ids) => {
        const found = await records.lookup([...new Set(ids)]);
        return ids.map((id) => found.get(id));
      },
      maxBatch,
      concurrency,
    );
  }

  get(deliveryId: string): Promise<DeliveryRecord | undefined> {
    return this.batcher.submit(deliveryId);
  }
}
