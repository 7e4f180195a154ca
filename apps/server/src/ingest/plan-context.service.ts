import { Inject, Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import { ApiError } from '../common/api-error';
import type { ChannelContents, NotificationRequest } from '../notifications/notification-request';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PluginRegistry } from '../plugins/plugin-registry';
import { unsubscribeHeaders } from '../unsubscribe/unsubscribe-headers';
import { UnsubscribeTokens } from '../unsubscribe/unsubscribe-token';
import type { PlanContext } from './planner';

/** Builds what planning needs once per notification (shared by the request path and fan-out). */
@Injectable()
export class PlanContextService {
  constructor(
    private readonly registry: PluginRegistry,
    @Inject(ENV) private readonly env: Env,
    @Inject(UnsubscribeTokens) private readonly unsubscribeTokens: UnsubscribeTokens,
  ) {}

  build(app: AppRecord, notificationId: string, request: NotificationRequest, acceptedAt: Date): PlanContext {
    const contents: ChannelContents | undefined = request.content;
    if (!contents) {
      // Stored templates arrive with the templates module; until then only inline content.
      throw new ApiError(422, 'unknown_template', `template "${request.template}" does not exist`, { template: request.template });
    }
    const start = request.sendAt ? Math.max(Date.parse(request.sendAt), acceptedAt.getTime()) : acceptedAt.getTime();
    return {
      appId: app.id,
      appName: app.name,
      settings: app.settings,
      notificationId,
      request,
      contents,
      acceptedAt: acceptedAt.toISOString(),
      expiresAt: request.ttl ? new Date(start + request.ttl * 1000).toISOString() : undefined,
      registry: this.registry,
      ...this.emailHeaders(app, request),
    };
  }

  /** Every non-critical e-mail gets an unsubscribe link for its category (or all e-mail without one). */
  private emailHeaders(app: AppRecord, request: NotificationRequest): Pick<PlanContext, 'emailHeaders'> {
    const category = request.category ?? '*';
    if (request.category && app.settings.criticalCategories.includes(request.category)) return {};
    return { emailHeaders: (userId) => unsubscribeHeaders(this.unsubscribeTokens, this.env.CLARION_PUBLIC_URL, { appId: app.id, userId, category }) };
  }
}
