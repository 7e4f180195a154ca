import type { InvalidAddressReason } from './errors';
import type { DeliveryJob } from './message';

/** Why a delivery ended without being sent. */
export type FailureReason =
  | 'permanent'
  | 'configuration'
  | 'invalid_address'
  | 'retries_exhausted'
  /** The job's worker died with it more than `maxStalledCount` times (BullMQ then fails it unprocessed). */
  | 'stalled'
  /** The provider kept throttling it (`maxThrottledRetries` times). */
  | 'throttled';

export interface OutcomeError {
  kind: 'retryable' | 'permanent' | 'invalid_address';
  message: string;
  code?: string;
  status?: number;
  /** For invalid addresses: why, and since when the provider considers it dead. */
  addressReason?: InvalidAddressReason;
  invalidSince?: string;
}

interface Base {
  job: DeliveryJob;
  attempt: number;
  at: Date;
}

/** What the runtime tells the host about a delivery; the host records it durably. */
export type DeliveryOutcome =
  | (Base & { type: 'sent'; providerMessageId?: string; details?: Record<string, string | number | boolean> })
  | (Base & { type: 'retrying'; error: OutcomeError })
  | (Base & { type: 'failed'; reason: FailureReason; error: OutcomeError })
  | (Base & { type: 'expired' })
  /** Its notification was canceled before this delivery started. */
  | (Base & { type: 'canceled' })
  /**
   * This provider gave up on its side and the job names a next one: the host records the
   * switch and enqueues `next` (same delivery id, next plugin's queue, shorter chain).
   */
  | (Base & { type: 'rerouted'; cause: RerouteCause; next: DeliveryJob; error?: OutcomeError });

/** Why a delivery moved to the next provider. */
export type RerouteCause = 'provider_failed' | 'circuit_open';

/**
 * The host's side of the contract. `report` resolves once the outcome is durable: the job is
 * completed only after that, so a crash in between makes BullMQ retry the job, and the sent
 * ledger keeps the provider from seeing it twice.
 */
export interface DeliveryReporter {
  report(outcome: DeliveryOutcome): Promise<void>;
}
