import { Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import { ApiError } from '../common/api-error';
import type { ChannelContents, NotificationRequest } from '../notifications/notification-request';
import { PluginRegistry } from '../plugins/plugin-registry';
import { LinkTracking } from '../tracking/link-tracking.service';
import type { PlanContext } from './planner';

/** Builds what planning needs once per notification (shared by the request path and fan-out). */
@Injectable()
export class PlanContextService {
  constructor(
    private readonly registry: PluginRegistry,
    private readonly links: LinkTracking,
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
      ...this.links.forApp(app.settings),
    };
  }
}
