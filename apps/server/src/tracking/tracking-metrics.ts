import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';

/**
 * Provider callbacks and status webhook posts by outcome. The steps tracking records (delivered,
 * opened, clicked, a provider's failure report) are counted with every other step by
 * deliveries/step-metrics.ts.
 */
@Injectable()
export class TrackingMetrics {
  readonly callbacks: Counter<'provider' | 'outcome'>;
  readonly webhookDeliveries: Counter<'outcome'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
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
}
