import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';
import { NotificationRepository } from '../notifications/notification-repository';

/**
 * Cancellations, and the notifications waiting for their sendAt. The gauge is read from
 * PostgreSQL at scrape time, so every process reports the same number: aggregate with max().
 */
@Injectable()
export class SchedulingMetrics {
  readonly canceled: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, notifications: NotificationRepository) {
    this.canceled =
      (registry.getSingleMetric('clarion_notifications_canceled_total') as Counter | undefined) ??
      new Counter({
        name: 'clarion_notifications_canceled_total',
        help: 'Notifications canceled through the API',
        registers: [registry],
      });
    if (!registry.getSingleMetric('clarion_scheduled_notifications')) {
      new Gauge({
        name: 'clarion_scheduled_notifications',
        help: 'Notifications accepted with a sendAt still in the future',
        registers: [registry],
        async collect() {
          try {
            this.set(await notifications.scheduledCount());
          } catch {
            // Database away: keep the last value rather than fail the scrape.
          }
        },
      });
    }
    if (!registry.getSingleMetric('clarion_scheduled_overdue_notifications')) {
      new Gauge({
        name: 'clarion_scheduled_overdue_notifications',
        help: 'Scheduled notifications more than 5 minutes past their sendAt with deliveries not yet handed to a provider',
        registers: [registry],
        async collect() {
          try {
            this.set(await notifications.overdueCount());
          } catch {
            // Database away: keep the last value rather than fail the scrape.
          }
        },
      });
    }
  }
}
