import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';

/** Core counters. Labels are bounded sets (channel, plugin, status, reason): never user ids or tokens. */
@Injectable()
export class DeliveryMetrics {
  readonly deliveries: Counter<'channel' | 'plugin' | 'status' | 'reason'>;
  readonly accepted: Counter;
  readonly deduplicated: Counter;
  readonly rateLimitHits: Counter<'scope'>;
  readonly tracking: Counter<'channel' | 'event'>;
  readonly fanoutWaits: Counter<'plugin'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.deliveries = counter(
      'clarion_deliveries_total',
      'Delivery status changes by channel, plugin, status and reason',
      ['channel', 'plugin', 'status', 'reason'],
    );
    this.accepted = counter(
      'clarion_notifications_accepted_total',
      'Notifications accepted by the API (202)',
    );
    this.deduplicated = counter(
      'clarion_notifications_deduplicated_total',
      'Repeated eventIds answered with the first notification',
    );
    this.rateLimitHits = counter(
      'clarion_rate_limit_hits_total',
      'Requests or deliveries stopped by a rate limit',
      ['scope'],
    );
    this.tracking = counter('clarion_tracking_events_total', 'Opens and clicks recorded', [
      'channel',
      'event',
    ]);
    this.fanoutWaits = counter(
      'clarion_fanout_backlog_waits_total',
      'Times a fan-out stepped aside because a plugin queue it feeds held more than CLARION_FANOUT_MAX_BACKLOG jobs',
      ['plugin'],
    );
  }

  delivery(
    channel: string,
    plugin: string | null,
    status: string,
    reason: string | null = null,
    count = 1,
  ): void {
    this.deliveries.inc({ channel, plugin: plugin ?? '', status, reason: reason ?? '' }, count);
  }
}
