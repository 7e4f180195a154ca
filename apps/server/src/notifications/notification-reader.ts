import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
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
    // One snapshot for every read below: read one by one, a status written in between showed the
    // summary counting a delivery as failed while its row in the same answer was still queued.
    return this.db.transaction('REPEATABLE READ', (snapshot) => this.read(snapshot, appId, id, limit, after));
  }

  private async read(db: EntityManager, appId: string, id: string, limit: number, after: string | null) {
    const notification = await this.notifications.view(appId, id, db);
    if (!notification) return null;
    // Escalation steps (none unless the request gave `steps`), on the first page only.
    const steps = after === null ? await stepsOf(db, id, limit) : [];
    const deliveries = await this.deliveries.ofNotification(id, after, limit, db);
    const summary = await this.deliveries.statusCounts(id, db);
    return {
      ...notification,
      summary,
      steps,
      deliveries: deliveries.map((d) => ({ ...d, events: historyOf(d.status, d.createdAt, d.events) })),
      nextCursor: deliveries.length === limit ? deliveries.at(-1)?.id : null,
    };
  }
}
