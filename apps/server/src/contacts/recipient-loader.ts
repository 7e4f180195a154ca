import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Batcher } from '../database/batcher';
import { preparedQuery } from '../database/prepared';
import type { PreferenceRule } from '../preferences/preference-rules';
import type { QuietHours } from '../preferences/quiet-hours';
import type { ContactRow, Recipient } from './recipient';

interface Row {
  app_id: string;
  user_id: string;
  external_id: string;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  contacts: ContactRow[] | null;
  preferences: PreferenceRule[] | null;
  quiet_hours: QuietHours | null;
}

const SELECT = `
  SELECT u.app_id, u.id AS user_id, u.external_id, u.locale, u.timezone, u.attributes,
         (SELECT json_agg(json_build_object('id', c.id, 'kind', c.kind, 'platform', c.platform, 'address', c.address,
                 'subscription', c.subscription, 'channel', c.channel, 'disabled', c.disabled_at IS NOT NULL) ORDER BY c.created_at)
            FROM contacts c WHERE c.user_id = u.id) AS contacts,
         (SELECT json_agg(json_build_object('channel', p.channel, 'category', p.category, 'enabled', p.enabled))
            FROM user_preferences p WHERE p.user_id = u.id) AS preferences,
         (SELECT json_build_object('start', q.start_time, 'end', q.end_time, 'categories', q.categories)
            FROM user_quiet_hours q WHERE q.user_id = u.id) AS quiet_hours
  FROM users u`;

function toRecipient(r: Row): Recipient {
  return {
    userId: r.user_id,
    externalId: r.external_id,
    locale: r.locale,
    timezone: r.timezone,
    attributes: r.attributes,
    contacts: r.contacts ?? [],
    preferences: r.preferences ?? [],
    quietHours: r.quiet_hours,
  };
}

/**
 * Looks recipients up in one query per batch: concurrent requests' lookups are merged
 * (never a query per user), and large lists are fetched in one round trip each.
 */
@Injectable()
export class RecipientLoader {
  private readonly batcher: Batcher<{ appId: string; externalIds: string[] }, Map<string, Recipient>>;

  constructor(private readonly db: DataSource) {
    this.batcher = new Batcher((items) => this.flush(items), { maxItems: 500, maxWaitMs: 2, concurrency: 4 });
  }

  /** Recipients by the app's user id; unknown ids are absent from the map. */
  load(appId: string, externalIds: string[]): Promise<Map<string, Recipient>> {
    return this.batcher.submit({ appId, externalIds });
  }

  private async flush(items: { appId: string; externalIds: string[] }[]): Promise<Map<string, Recipient>[]> {
    const apps: string[] = [];
    const ids: string[] = [];
    for (const item of items) {
      for (const id of item.externalIds) {
        apps.push(item.appId);
        ids.push(id);
      }
    }
    const rows = await preparedQuery<Row>(
      this.db,
      `${SELECT} JOIN unnest($1::uuid[], $2::text[]) AS want(app_id, external_id)
         ON u.app_id = want.app_id AND u.external_id = want.external_id`,
      [apps, ids],
    );
    const byKey = new Map<string, Recipient>();
    for (const r of rows) byKey.set(`${r.app_id}\u0000${r.external_id}`, toRecipient(r));
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
    const rows: Row[] = await this.db.query(
      `${SELECT} JOIN topic_subscriptions t ON t.user_id = u.id
        WHERE t.app_id = $1 AND t.topic = $2 AND ($3::uuid IS NULL OR u.id > $3::uuid)
        ORDER BY u.id LIMIT $4`,
      [appId, topic, afterUserId, limit],
    );
    return rows.map(toRecipient);
  }
}
