import type { DeliveryOutcome, DeliveryReporter } from '../outcome';

/** A DeliveryReporter that keeps every outcome in memory, for tests. */
export class RecordingReporter implements DeliveryReporter {
  readonly outcomes: DeliveryOutcome[] = [];

  async report(outcome: DeliveryOutcome): Promise<void> {
    this.outcomes.push(outcome);
  }

  /** The last outcome recorded for a delivery. */
  last(deliveryId: string): DeliveryOutcome | undefined {
    return this.outcomes.filter((o) => o.job.deliveryId === deliveryId).at(-1);
  }

  /** Outcomes for a delivery that end it (sent, failed, expired). */
  final(deliveryId: string): DeliveryOutcome | undefined {
    const last = this.last(deliveryId);
    return last && last.type !== 'retrying' ? last : undefined;
  }
}
