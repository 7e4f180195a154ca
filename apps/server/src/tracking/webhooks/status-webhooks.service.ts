import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SecretBox } from '../../apps/secret-box';
import { newId } from '../../common/ids';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { rows } from '../../database/rows';

export const STATUS_EVENT_TYPES = ['sent', 'delivered', 'failed', 'opened', 'clicked'] as const;
export type StatusEventType = (typeof STATUS_EVENT_TYPES)[number];

export interface StatusWebhook {
  id: string;
  appId: string;
  url: string;
  events: StatusEventType[];
  createdAt: string;
}

/** An app's registered status webhooks; secrets sealed at rest, shown once on creation. */
@Injectable()
export class StatusWebhooks {
  private readonly box: SecretBox;
  private readonly changeListeners: ((appId: string) => void)[] = [];

  /** Called when an app's webhooks change in this process (caches drop that app at once; other processes within their TTL). */
  onChange(listener: (appId: string) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(appId: string): void {
    for (const l of this.changeListeners) l(appId);
  }

  constructor(
    private readonly db: DataSource,
    @Inject(ENV) env: Env,
  ) {
    this.box = new SecretBox(env.CLARION_ENCRYPTION_KEY);
  }

  async create(
    appId: string,
    input: { url: string; events: StatusEventType[]; secret?: string | undefined },
  ) {
    const secret = input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`;
    const id = newId();
    const [row]: { created_at: Date }[] = await this.db.query(
      `INSERT INTO status_webhooks (id, app_id, url, events, secret_sealed) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`,
      [id, appId, input.url, input.events, this.box.seal(secret)],
    );
    this.changed(appId);
    return {
      id,
      url: input.url,
      events: input.events,
      secret,
      createdAt: new Date(row!.created_at).toISOString(),
    };
  }

  async count(appId: string): Promise<number> {
    const [row]: { n: string }[] = await this.db.query(
      'SELECT count(*) AS n FROM status_webhooks WHERE app_id = $1',
      [appId],
    );
    return Number(row?.n ?? 0);
  }

  async list(appId: string): Promise<StatusWebhook[]> {
    return this.forApps([appId]);
  }

  async forApps(appIds: string[]): Promise<StatusWebhook[]> {
    const found: { id: string; app_id: string; url: string; events: StatusEventType[]; created_at: Date }[] =
      await this.db.query(
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

  /** URL and secret for posting, or null once the webhook is deleted. */
  async target(id: string): Promise<{ url: string; secret: string } | null> {
    const [row]: { url: string; secret_sealed: string }[] = await this.db.query(
      'SELECT url, secret_sealed FROM status_webhooks WHERE id = $1',
      [id],
    );
    return row ? { url: row.url, secret: this.box.open(row.secret_sealed) } : null;
  }

  async delete(appId: string, id: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      'DELETE FROM status_webhooks WHERE app_id = $1 AND id = $2 RETURNING id',
      [appId, id],
    );
    this.changed(appId);
    return deleted.length > 0;
  }
}
