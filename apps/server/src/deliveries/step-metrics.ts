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
    steps.on((recorded) => this.countAll(recorded));
  }

  /**
   * Counts a batch's steps. A worker's batch is mostly one channel, plugin, step and reason, so a
   * run of alike steps is one increment by its length: prom-client hashes a label set per call.
   */
  private countAll(recorded: RecordedStep[]): void {
    let run: RecordedStep | undefined;
    let n = 0;
    for (const s of recorded) {
      if (run && alike(run, s)) {
        n += 1;
        continue;
      }
      if (run) this.count(run, n);
      run = s;
      n = 1;
    }
    if (run) this.count(run, n);
  }

  private count(s: RecordedStep, n: number): void {
    if (s.writer === 'tracking') {
      this.metrics.delivery(s.channel, s.plugin, s.step, s.step === 'failed' ? 'provider_report' : null, n);
      if (s.step === 'opened' || s.step === 'clicked')
        this.metrics.tracking.inc({ channel: s.channel, event: s.step }, n);
      return;
    }
    this.metrics.delivery(s.channel, s.plugin, s.step, s.reason, n);
  }
}

/** Whether two steps count under the same labels. */
function alike(a: RecordedStep, b: RecordedStep): boolean {
  return (
    a.step === b.step &&
    a.channel === b.channel &&
    a.plugin === b.plugin &&
    a.reason === b.reason &&
    (a.writer === 'tracking') === (b.writer === 'tracking')
  );
}
