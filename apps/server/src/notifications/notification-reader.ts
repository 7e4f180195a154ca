import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeliveryQueries } from '../deliveries/delivery-queries';
import { stepsOf } from '../deliveries/delivery-store';
import { historyOf } from '../deliveries/event-view';
import { NotificationRepository } from './notification-repository';

/** Read side of `GET /v1/notifications/:id`: the notification, each delivery, its status history. */
@Injectable()
export class NotificationReader {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly deliveries: DeliveryQueries,
    private readonly db: DataSource,
  ) {}

  async get(appId: string, id: string, limit = 1000, after: string | null = null) {
    const notification = await this.notifications.view(appId, id);
    if (!notification) return null;
    // Escalation steps (none unless the request gave `steps`), on the first page only. Read before
    // the deliveries: a step shown settled then always has its deliveries in this same answer.
    const steps = after === null ? await stepsOf(this.db, id, limit) : [];
    const deliveries = await this.deliveries.ofNotification(id, after, limit);
    const summary = await this.deliveries.statusCounts(id);
    return {
      ...notification,
      summary,
      steps,
      deliveries: deliveries.map((d) => ({ ...d, events: historyOf(d.status, d.createdAt, d.events) })),
      nextCursor: deliveries.length === limit ? deliveries.at(-1)?.id : null,
    };
  }
}
