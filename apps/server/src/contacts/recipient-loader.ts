import { Inject, Injectable } from '@nestjs/common';
import { Batcher } from '../database/batcher';
import type { Recipient } from './recipient';
import { type RecipientSource, UserRepository } from './user-repository';

/**
 * Looks recipients up in one query per batch: concurrent requests' lookups are merged
 * (never a query per user), and large lists are fetched in one round trip each.
 */
@Injectable()
export class RecipientLoader {
  private readonly batcher: Batcher<{ appId: string; externalIds: string[] }, Map<string, Recipient>>;

  constructor(@Inject(UserRepository) private readonly users: RecipientSource) {
    this.batcher = new Batcher((items) => this.flush(items), { maxItems: 500, maxWaitMs: 2, concurrency: 4 });
  }

  /** Recipients by the app's user id; unknown ids are absent from the map. */
  load(appId: string, externalIds: string[]): Promise<Map<string, Recipient>> {
    return this.batcher.submit({ appId, externalIds });
  }

  private async flush(items: { appId: string; externalIds: string[] }[]): Promise<Map<string, Recipient>[]> {
    const pairs = items.flatMap((item) =>
      item.externalIds.map((externalId) => ({ appId: item.appId, externalId })),
    );
    const byKey = new Map<string, Recipient>();
    for (const { appId, ...r } of await this.users.recipients(pairs))
      byKey.set(`${appId}\u0000${r.externalId}`, r);
    return items.map((item) => {
      const map = new Map<string, Recipient>();
      for (const id of item.externalIds) {
        const hit = byKey.get(`${item.appId}\u0000${id}`);
        if (hit) map.set(id, hit);
      }
      return map;
    });
  }

  /** A page of a topic's subscribers, by user id order (for fan-out in chunks). */
  async topicPage(
    appId: string,
    topic: string,
    afterUserId: string | null,
    limit: number,
  ): Promise<Recipient[]> {
    return this.users.topicPage(appId, topic, afterUserId, limit);
  }
}
