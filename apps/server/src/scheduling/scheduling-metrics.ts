import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { METRICS_REGISTRY } from '../config/tokens';

/**
 * Cancellations, and the notifications waiting for their sendAt. The gauge is read from
 * PostgreSQL at scrape time, so every process reports the same number: aggregate with max().
 */
@Injectable()
export class SchedulingMetrics {
  readonly canceled: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry, db: DataSource) {
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
            const [row] = (await db.query(
              `SELECT count(*)::int AS n FROM notifications WHERE status IN ('scheduled', 'fanout') AND send_at > now()`,
            )) as { n: number }[];
            this.set(row?.n ?? 0);
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
            // Bounded to the last week of schedules (partial index on send_at for scheduled rows).
            const [row] = (await db.query(
              `SELECT count(*)::int AS n FROM notifications n
                WHERE n.status IN ('scheduled', 'fanout') AND n.canceled_at IS NULL
                  AND n.send_at < now() - interval '5 minutes' AND n.send_at > now() - interval '7 days'
                  AND (n.status = 'fanout'
                       OR EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.status IN ('pending', 'queued')))`,
            )) as { n: number }[];
            this.set(row?.n ?? 0);
          } catch {
            // Database away: keep the last value rather than fail the scrape.
          }
        },
      });
    }
  }
}
