import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../../database/rows';
import type { StatusEventType, StatusWebhook } from './status-webhooks.service';

/** Apps' status webhooks in PostgreSQL; the secret is stored sealed (the caller seals and opens). */
@Injectable()
export class StatusWebhookRepository {
  constructor(private readonly db: DataSource) {}

  /** Returns when it was created. */
  async insert(hook: {
    id: string;
    appId: string;
    url: string;
    events: StatusEventType[];
    sealedSecret: string;
  }): Promise<Date> {
    const [row] = await rows<{ created_at: Date }>(
      this.db,
      `INSERT INTO status_webhooks (id, app_id, url, events, secret_sealed) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`,
      [hook.id, hook.appId, hook.url, hook.events, hook.sealedSecret],
    );
    return new Date(row!.created_at);
  }

  async count(appId: string): Promise<number> {
    const [row] = await rows<{ n: string }>(
      this.db,
      'SELECT count(*) AS n FROM status_webhooks WHERE app_id = $1',
      [appId],
    );
    return Number(row?.n ?? 0);
  }

  async forApps(appIds: string[]): Promise<StatusWebhook[]> {
    const found = await rows<{
      id: string;
      app_id: string;
      url: string;
      events: StatusEventType[];
      created_at: Date;
    }>(
      this.db,
      'SELECT id, app_id, url, events, created_at FROM status_webhooks WHERE app_id = ANY($1::uuid[]) ORDER BY id',
      [appIds],
    );
    return found.map((r) => ({
      id: r.id,
      appId: r.app_id,
      url: r.url,
      events: r.events,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }

  /** URL and sealed secret for posting, or null once the webhook is deleted. */
  async target(id: string): Promise<{ url: string; sealedSecret: string } | null> {
    const [row] = await rows<{ url: string; secret_sealed: string }>(
      this.db,
      'SELECT url, secret_sealed FROM status_webhooks WHERE id = $1',
      [id],
    );
    return row ? { url: row.url, sealedSecret: row.secret_sealed } : null;
  }

  async delete(appId: string, id: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      'DELETE FROM status_webhooks WHERE app_id = $1 AND id = $2 RETURNING id',
      [appId, id],
    );
    return deleted.length > 0;
  }
}
