import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../../apps/secret-box';
import { newId } from '../../common/ids';
import type { Env } from '../../config/env';
import { ENV } from '../../config/tokens';
import { StatusWebhookRepository } from './status-webhook-repository';

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
    private readonly repo: StatusWebhookRepository,
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
    const createdAt = await this.repo.insert({
      id,
      appId,
      url: input.url,
      events: input.events,
      sealedSecret: this.box.seal(secret),
    });
    this.changed(appId);
    return {
      id,
      url: input.url,
      events: input.events,
      secret,
      createdAt: createdAt.toISOString(),
    };
  }

  async count(appId: string): Promise<number> {
    return this.repo.count(appId);
  }

  async list(appId: string): Promise<StatusWebhook[]> {
    return this.forApps([appId]);
  }

  async forApps(appIds: string[]): Promise<StatusWebhook[]> {
    return this.repo.forApps(appIds);
  }

  /** URL and secret for posting, or null once the webhook is deleted. */
  async target(id: string): Promise<{ url: string; secret: string } | null> {
    const row = await this.repo.target(id);
    return row ? { url: row.url, secret: this.box.open(row.sealedSecret) } : null;
  }

  async delete(appId: string, id: string): Promise<boolean> {
    const deleted = await this.repo.delete(appId, id);
    this.changed(appId);
    return deleted;
  }
}
