import type { Address, AnyChannelPlugin, DeliveryJob, MessageContent } from '@clarion/plugin-sdk';
import type { AppSettings } from '../apps/app-settings';
import { RenderError } from '../common/errors/template-errors';
import { newId } from '../common/ids';
import { INBOX_ADDRESS, INBOX_CHANNEL } from '../contacts/inbox-address';
import type { ContactRow, Recipient } from '../contacts/recipient';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import { pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { preferenceSuppression, quietHold } from '../preferences/delivery-policy';
import { AnyUser, renderDeep } from '../templates/liquid-renderer';
import type { ChannelContents, NotificationRequest } from '../templates/notification-request';
import { type RenderLinks, SAMPLE_LINKS } from '../templates/render-scope';
import { checkPushPayload, checkRenderedSize } from '../templates/rendered-limits';
import type { TemplatePlan } from '../templates/template-plan';

export interface PlanContext {
  appId: string;
  appName: string;
  settings: AppSettings;
  notificationId: string;
  request: NotificationRequest;
  /** Content per channel before rendering (inline, or from the template version). */
  contents: ChannelContents;
  acceptedAt: string;
  expiresAt: string | undefined;
  registry: PluginRegistry;
  /** The stored template version (when the request names one): renders per recipient locale. */
  template?: TemplatePlan;
  /** Rewrites links to tracking URLs for one delivery (set when the app tracks clicks or opens). */
  rewriteLinks?: (
    channel: string,
    content: MessageContent,
    deliveryId: string,
  ) => { content: MessageContent; links: string[] };
  /** E-mail headers for one user (List-Unsubscribe, one-click); absent for critical categories. */
  emailHeaders?: (userId: string) => Record<string, string>;
  /**
   * The signed URL of one user's (users.id) hosted preference page: `{{ links.preferences }}`.
   * Set only when the notification's content mentions `links` (ingest/mentions-links.ts).
   */
  preferencesUrl?: (userId: string) => string;
}

/** `links` of every recipient of content that never mentions it: shared, nothing built per recipient. */
const NO_LINKS: RenderLinks = Object.freeze({ preferences: undefined });

/**
 * `links` for one recipient. A getter: the token is signed (an HMAC) only when a template reads
 * `links.preferences`, and once per recipient however many channels read it. Liquid reads it as
 * an own property (ownPropertyOnly holds).
 */
function recipientLinks(ctx: PlanContext, userId: string): RenderLinks {
  const sign = ctx.preferencesUrl;
  if (!sign) return NO_LINKS;
  let preferences: string | undefined;
  return {
    get preferences() {
      preferences ??= sign(userId);
      return preferences;
    },
  };
}

function addressOf(contact: ContactRow): Address {
  switch (contact.kind) {
    case 'device':
      return {
        kind: 'device',
        contactId: contact.id,
        platform: contact.platform ?? 'android',
        ...(contact.subscription ? { subscription: contact.subscription } : { token: contact.address }),
      };
    case 'email':
      return { kind: 'email', contactId: contact.id, email: contact.address };
    case 'phone':
      return { kind: 'phone', contactId: contact.id, phone: contact.address };
    case 'url':
      return { kind: 'url', contactId: contact.id, url: contact.address };
  }
}

/**
 * Which contacts of a user a channel uses: the core channels their own kinds; a plugin's channel
 * the one address stored for it, of the kind its plugin declares.
 */
function contactsFor(channel: string, contacts: ContactRow[], registry: PluginRegistry): ContactRow[] {
  const active = contacts.filter((c) => !c.disabled && (c.channel ?? null) === null);
  switch (channel) {
    case 'push':
      return active.filter((c) => c.kind === 'device' && (c.platform === 'ios' || c.platform === 'android'));
    case 'web':
      return active.filter((c) => c.kind === 'device' && c.platform === 'web');
    case 'sms':
      return active.filter((c) => c.kind === 'phone').slice(0, 1);
    case 'email':
      return active.filter((c) => c.kind === 'email').slice(0, 1);
    case 'webhook':
      return active.filter((c) => c.kind === 'url').slice(0, 1);
    case INBOX_CHANNEL:
      // Every user has an inbox: no stored address, the delivery carries the user's id.
      return [INBOX_ADDRESS];
    default: {
      const kind = pluginChannels(registry).find((p) => p.channel === channel)?.addressKind;
      if (!kind) return [];
      return contacts.filter((c) => !c.disabled && c.channel === channel && c.kind === kind).slice(0, 1);
    }
  }
}

/** Where a delivery goes: its plugin, and the names of the providers to fall back on, in order. */
interface Route {
  plugin: AnyChannelPlugin | undefined;
  fallback: string[];
}

/**
 * Routes by context, then by channel and device platform. A route depends only on those, the
 * app's provider order and the loaded plugins, all fixed for one context: a campaign chunk's
 * thousand recipients share a handful of routes instead of each building its own chain.
 */
const routes = new WeakMap<PlanContext, Map<string, Route>>();

function routeOf(ctx: PlanContext, channel: string, contact: ContactRow): Route {
  let ofContext = routes.get(ctx);
  if (!ofContext) {
    ofContext = new Map();
    routes.set(ctx, ofContext);
  }
  const device = contact.kind === 'device';
  const platform = contact.platform ?? 'android';
  const key = device ? `${channel}\u0000${platform}` : channel;
  let route = ofContext.get(key);
  if (!route) {
    // Devices: the platform picks the plugin. Others: the app's ordered providers, the rest kept as the fallback chain.
    const chain = device
      ? [ctx.registry.forDevice(channel, platform, ctx.settings.providers[channel])]
      : [...new Set(ctx.registry.providersFor(channel, ctx.settings.providers[channel]))];
    route = { plugin: chain[0], fallback: chain.slice(1).flatMap((p) => (p ? [p.name] : [])) };
    ofContext.set(key, route);
  }
  return route;
}

/** E-mail deliveries carry the app's List-Unsubscribe headers for this user; the message's own headers win. */
function withEmailHeaders(
  ctx: PlanContext,
  channel: string,
  userId: string,
  content: MessageContent,
): MessageContent {
  if (channel !== 'email' || !ctx.emailHeaders) return content;
  return { ...content, headers: { ...ctx.emailHeaders(userId), ...content.headers } };
}

/**
 * Turns one recipient into deliveries: one per channel × address, each routed to a plugin, with
 * its content rendered for this user. What cannot go out is kept as a suppressed delivery with
 * the reason, so `GET /v1/notifications/:id` explains every silence.
 */
export function planRecipient(ctx: PlanContext, recipient: Recipient): DeliveryPlan[] {
  const channels = ctx.request.channels ?? (Object.keys(ctx.contents) as (keyof ChannelContents)[]);
  const scope = {
    data: ctx.request.data,
    user: {
      id: recipient.externalId,
      locale: recipient.locale,
      timezone: recipient.timezone,
      ...recipient.attributes,
    },
    app: { id: ctx.appId, name: ctx.appName },
    links: recipientLinks(ctx, recipient.userId),
  };
  const plans: DeliveryPlan[] = [];
  const suppressed = (
    channel: string,
    reason: string,
    contact: ContactRow | null = null,
    plugin: string | null = null,
  ) =>
    plans.push({
      id: newId(),
      userId: recipient.userId,
      contactId: contact?.id ?? null,
      channel,
      plugin,
      status: 'suppressed',
      reason,
      job: null,
    });
  const category = ctx.request.category ?? null;
  // Quiet hours are judged at the moment the notification is due (a scheduled one at its sendAt).
  const dueAt = new Date(Math.max(Date.now(), ctx.request.sendAt ? Date.parse(ctx.request.sendAt) : 0));
  const heldUntil = quietHold(ctx.settings, recipient, category, dueAt);
  const hold = heldUntil ? { until: heldUntil.toISOString(), reason: 'quiet_hours' as const } : undefined;

  for (const channel of channels) {
    const raw = ctx.contents[channel as keyof ChannelContents];
    if (raw === undefined) {
      suppressed(channel, 'no_content');
      continue;
    }
    const silenced = preferenceSuppression(ctx.settings, recipient, channel, category);
    if (silenced) {
      suppressed(channel, silenced);
      continue;
    }
    const contacts =
      channel === 'webhook' &&
      ctx.settings.webhookUrl &&
      contactsFor(channel, recipient.contacts, ctx.registry).length === 0
        ? [
            {
              id: '',
              kind: 'url' as const,
              platform: null,
              address: ctx.settings.webhookUrl,
              subscription: null,
              channel: null,
              disabled: false,
            },
          ]
        : contactsFor(channel, recipient.contacts, ctx.registry);
    if (contacts.length === 0) {
      suppressed(channel, 'no_contact');
      continue;
    }
    const content = (
      ctx.template
        ? ctx.template.render(channel, recipient.locale, scope)
        : renderDeep(raw, scope, `content.${channel}`)
    ) as MessageContent;
    checkRenderedSize(channel, content, `content.${channel}`);
    for (const contact of contacts) {
      const { plugin, fallback } = routeOf(ctx, channel, contact);
      const contactRef = contact.id ? contact : null;
      if (!plugin) {
        suppressed(channel, 'no_plugin', contactRef);
        continue;
      }
      const id = newId();
      const tracked = ctx.rewriteLinks?.(channel, content, id);
      const jobContent = withEmailHeaders(
        ctx,
        channel,
        recipient.userId,
        channel === 'webhook'
          ? { json: (content as { json?: unknown }).json }
          : (tracked?.content ?? content),
      );
      if (channel === 'push' || channel === 'web')
        checkPushPayload(plugin.name, jobContent, `content.${channel}`);
      const job: DeliveryJob = {
        deliveryId: id,
        notificationId: ctx.notificationId,
        appId: ctx.appId,
        userId: recipient.externalId,
        channel,
        plugin: plugin.name,
        address: addressOf(contact),
        content: jobContent,
        priority: ctx.request.priority,
        acceptedAt: ctx.acceptedAt,
        pushType: ctx.request.pushType,
        ...(ctx.request.category ? { category: ctx.request.category } : {}),
        ...(ctx.expiresAt ? { expiresAt: ctx.expiresAt } : {}),
        ...(ctx.request.collapseKey ? { collapseKey: ctx.request.collapseKey } : {}),
        ...(fallback.length > 0 ? { fallback } : {}),
      };
      plans.push({
        id,
        userId: recipient.userId,
        contactId: contactRef?.id ?? null,
        channel,
        plugin: plugin.name,
        status: 'pending',
        reason: hold?.reason ?? null,
        job,
        ...(hold ? { hold } : {}),
        ...(tracked && tracked.links.length > 0 ? { links: tracked.links } : {}),
      });
    }
  }
  return plans;
}

/**
 * Before a fan-out is accepted (its users are planned later, where a 422 is no longer possible):
 * renders every channel with the request's `data` and a user who has every attribute, so content
 * the request itself makes too large, or a missing `data` variable of a template, is a 422 now.
 */
export function checkBeforeFanout(ctx: PlanContext): void {
  const app = { id: ctx.appId, name: ctx.appName };
  if (ctx.template) {
    ctx.template.checkData(ctx.request.data, app);
    return;
  }
  const scope = { data: ctx.request.data, user: new AnyUser(), app, links: SAMPLE_LINKS };
  for (const [channel, raw] of Object.entries(ctx.contents)) {
    if (raw === undefined) continue;
    let rendered: MessageContent;
    try {
      rendered = renderDeep(raw, scope, `content.${channel}`) as MessageContent;
    } catch (error) {
      // A variable some users lack is judged per user, when they are planned.
      if (error instanceof RenderError && error.code === 'template_error') continue;
      throw error;
    }
    checkRenderedSize(channel, rendered, `content.${channel}`);
  }
}
