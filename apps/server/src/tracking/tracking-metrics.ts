import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';

/**
 * The funnel as Prometheus counters for Grafana, labelled by channel only (bounded): delivered,
 * opened and clicked deliveries, and callbacks refused for a bad signature by provider.
 */
@Injectable()
export class TrackingMetrics {
  private readonly steps: Record<'delivered' | 'opened' | 'clicked' | 'failed', Counter<'channel'>>;
  readonly callbacks: Counter<'provider' | 'outcome'>;
  readonly webhookDeliveries: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.steps = {
      delivered: counter('clarion_deliveries_delivered_total', 'Deliveries a provider confirmed delivered', [
        'channel',
      ]),
      opened: counter('clarion_deliveries_opened_total', 'Deliveries opened (pixel or client report)', [
        'channel',
      ]),
      clicked: counter(
        'clarion_deliveries_clicked_total',
        'Deliveries clicked (tracked link or client report)',
        ['channel'],
      ),
      failed: counter(
        'clarion_deliveries_failed_after_send_total',
        'Deliveries a provider reported undelivered after accepting them',
        ['channel'],
      ),
    };
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

  step(channel: string, status: string): void {
    if (status === 'delivered' || status === 'opened' || status === 'clicked' || status === 'failed')
      this.steps[status].inc({ channel });
  }
}
