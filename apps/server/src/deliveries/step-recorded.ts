import { Injectable, Logger } from '@nestjs/common';
import type { DeliveryStep } from './delivery-status';
import type { Writer } from './transitions';

/** One step of one delivery, durable in PostgreSQL, as listeners (metrics, status webhooks) see it. */
export interface RecordedStep {
  /** Unique per step (delivery id + step): receivers de-duplicate on it. */
  id: string;
  step: DeliveryStep;
  /** Who recorded it (transitions.ts). */
  writer: Writer;
  at: string;
  appId: string;
  deliveryId: string;
  notificationId: string;
  /** The app's own user id (null where the writer does not read it: a cancel). */
  userId: string | null;
  channel: string;
  plugin: string | null;
  providerMessageId: string | null;
  reason: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export type StepListener = (steps: RecordedStep[]) => void;

/**
 * "Step recorded": the one event every writer of a delivery's life emits once its batch is
 * durable (the worker's outcomes, tracked steps, queued, canceled, rerouted). Listeners run in
 * the writer's flush: they must not block (hand work to a batcher) and a throwing listener is
 * logged, never fails the write nor keeps the others from hearing it.
 */
@Injectable()
export class StepRecorded {
  private readonly log = new Logger('step-recorded');
  private readonly listeners: StepListener[] = [];

  on(listener: StepListener): void {
    this.listeners.push(listener);
  }

  emit(steps: RecordedStep[]): void {
    if (steps.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(steps);
      } catch (error) {
        this.log.warn(`step listener failed: ${(error as Error).message}`);
      }
    }
  }
}
