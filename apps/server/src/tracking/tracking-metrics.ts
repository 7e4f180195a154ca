import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';
import { DeliveryMetrics } from '../ops/delivery-metrics';

/**
 * Steps reported after the send (provider callbacks, clicks, opens) go into the one lifecycle
 * counter every delivery status uses, `clarion_deliveries_total{channel,plugin,status}`, so the
 * dashboard's rates divide like by like; opens and clicks also count in
 * `clarion_tracking_events_total{channel,event}`. Plus callbacks and status webhook posts by outcome.
 */
@Injectable()
export class TrackingMetrics {
  readonly callbacks: Counter<'provider' | 'outcome'>;
  readonly webhookDeliveries: Counter<'outcome'>;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    private readonly deliveries: DeliveryMetrics,
  ) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.callbacks = counter(
      'clarion_provider_callbacks_total',
      'Provider callbacks by provider and outcome (accepted, bad_signature, invalid)',
      ['provider', 'outcome'],
    );
    this.webhookDeliveries = counter(
      'clarion_status_webhook_posts_total',
      'Outbound status webhook posts by outcome (ok, failed)',
      ['outcome'],
    );
  }

  /** A delivery moved to `status` after the send (delivered, opened, clicked, or failed on the provider's report). */
  step(channel: string, plugin: string | null, status: string): void {
    this.deliveries.delivery(channel, plugin, status, status === 'failed' ? 'provider_report' : null);
    if (status === 'opened' || status === 'clicked') this.deliveries.tracking.inc({ channel, event: status });
  }
}
