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

interface Waiting {
  id: string;
  resolve: (record: DeliveryRecord | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the lookups of concurrent jobs into one `DeliveryRecords.lookup` call. No timer: the
 * first lookup goes out on the next turn of the event loop (the gate answers of one Redis pipeline
 * arrive in the same turn, so they share it), and while `concurrency` calls are out the rest wait
 * and go together. A busy worker thus pays one database round trip per batch of jobs, an idle one
 * no added wait.
 */
export class BatchedRecordLookup {
  private waiting: Waiting[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly records: DeliveryRecords,
    private readonly maxBatch = 1000,
    private readonly concurrency = 2,
  ) {}

  get(deliveryId: string): Promise<DeliveryRecord | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: deliveryId, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    this.running++;
    try {
      const found = await this.records.lookup([...new Set(batch.map((w) => w.id))]);
      for (const w of batch) w.resolve(found.get(w.id));
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.running--;
      this.schedule();
    }
  }
}
