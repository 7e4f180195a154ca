import { Inject, Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { PluginRegistry } from '../plugins/plugin-registry';
import type { NotificationRequest } from '../templates/notification-request';
import { TemplateResolver } from '../templates/template-resolver';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';
import { preferencePageLink } from '../unsubscribe/preference-page-link';
import { unsubscribeHeaders } from '../unsubscribe/unsubscribe-headers';
import { UnsubscribeTokens } from '../unsubscribe/unsubscribe-token';
import { LinkTracking } from './link-tracking.service';
import { mentionsLinks } from './mentions-links';
import type { PlanContext } from './planner';

/** Builds what planning needs once per notification (shared by the request path and fan-out). */
@Injectable()
export class PlanContextService {
  constructor(
    private readonly registry: PluginRegistry,
    private readonly templates: TemplateResolver,
    private readonly links: LinkTracking,
    @Inject(ENV) private readonly env: Env,
    @Inject(UnsubscribeTokens) private readonly unsubscribeTokens: UnsubscribeTokens,
    @Inject(PreferenceCentreTokens) private readonly preferenceTokens: PreferenceCentreTokens,
  ) {}

  /**
   * Loads the stored template once per notification (cached; 422 unknown_template when it does
   * not exist or is archived). `pinnedVersion` is the version recorded at ingest: fan-out uses it,
   * even if the template was archived or republished since. `clientSent`: sent with a client key,
   * so its links are not rewritten (a signed tracking link would redirect wherever the sender chose).
   */
  async build(
    app: AppRecord,
    notificationId: string,
    request: NotificationRequest,
    acceptedAt: Date,
    pinnedVersion?: number,
    clientSent = false,
  ): Promise<PlanContext> {
    const template =
      request.template === undefined
        ? undefined
        : await this.templates.plan(
            app.id,
            request.template,
            pinnedVersion ?? request.templateVersion,
            pinnedVersion !== undefined,
          );
    const contents = template?.contents ?? request.content ?? {};
    const start = request.sendAt
      ? Math.max(Date.parse(request.sendAt), acceptedAt.getTime())
      : acceptedAt.getTime();
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
      ...(template ? { template } : {}),
      ...this.links.forApp(app.settings, clientSent),
      ...this.emailHeaders(app, request),
      ...(mentionsLinks(contents) || mentionsLinks(template?.locales)
        ? { preferencesUrl: (userId: string) => this.preferencesUrl(app.id, userId) }
        : {}),
    };
  }

  /**
   * `{{ links.preferences }}`: the same link as `POST /v1/users/:userId/preferences/link` with its
   * default expiry, counted from when the recipient is planned. A client-key send gets it too: a
   * client key may only notify its own signed-in user (notifications/client-send-policy.ts), so
   * the link it can cause is to that user's own page, sent to that user's own contacts.
   */
  private preferencesUrl(appId: string, userId: string): string {
    return preferencePageLink(this.preferenceTokens, this.env.CLARION_PUBLIC_URL, { appId, userId }).url;
  }

  /** Every non-critical e-mail gets an unsubscribe link for its category (or all e-mail without one). */
  private emailHeaders(app: AppRecord, request: NotificationRequest): Pick<PlanContext, 'emailHeaders'> {
    const category = request.category ?? '*';
    if (request.category && app.settings.criticalCategories.includes(request.category)) return {};
    return {
      emailHeaders: (userId) =>
        unsubscribeHeaders(this.unsubscribeTokens, this.env.CLARION_PUBLIC_URL, {
          appId: app.id,
          userId,
          category,
        }),
    };
  }
}
