import { Injectable } from '@nestjs/common';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { type RecordedStep, StepRecorded } from './step-recorded';

/**
 * Counts recorded steps in `clarion_deliveries_total{channel,plugin,status,reason}` (one counter for
 * every step, so the dashboard's rates divide like by like); opens and clicks also count in
 * `clarion_tracking_events_total{channel,event}`. A provider's failure report has the reason
 * `provider_report` (the worker's failures carry their own).
 */
@Injectable()
export class StepMetrics {
  constructor(
    steps: StepRecorded,
    private readonly metrics: DeliveryMetrics,
  ) {
    steps.on((recorded) => {
      for (const s of recorded) this.count(s);
    });
  }

  private count(s: RecordedStep): void {
    if (s.writer === 'tracking') {
      this.metrics.delivery(s.channel, s.plugin, s.step, s.step === 'failed' ? 'provider_report' : null);
      if (s.step === 'opened' || s.step === 'clicked')
        this.metrics.tracking.inc({ channel: s.channel, event: s.step });
      return;
    }
    this.metrics.delivery(s.channel, s.plugin, s.step, s.reason);
  }
}
