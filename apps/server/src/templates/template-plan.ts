import type { MessageContent } from '@clarion/plugin-sdk';
import type { CompiledTemplate } from './compiled-template';
import { AnyUser, checkRenderedUrls, renderCompiled } from './liquid-renderer';
import { pickLocale } from './locale-fallback';
import type { ChannelContents } from './notification-request';
import { SAMPLE_LINKS } from './render-scope';
import { checkRenderedSize } from './rendered-limits';
import type { TemplateMetrics } from './template-metrics';

/**
 * The stored template a notification uses, pinned to one version for all its recipients
 * (loaded once per notification into the PlanContext; rendering reads no database).
 */
export interface TemplatePlan {
  key: string;
  version: number;
  /** The default content: which channels the template sends on. */
  contents: ChannelContents;
  /** Content per locale variant (each overrides the default's fields). */
  locales: Record<string, ChannelContents>;
  /** The locale a recipient gets for a channel (`pt-BR` → `pt` → the default locale, null when none). */
  localeFor(channel: string, locale: string | null): string | null;
  /** One channel's content rendered for a recipient; a missing variable is a 422 naming it. */
  render(channel: string, locale: string | null, scope: Record<string, unknown>): MessageContent | undefined;
  /**
   * Renders every channel of every locale with the notification's `data` and `app` and a user
   * who has every attribute: a 422 naming a missing `data` variable before anything is stored,
   * for audiences planned later by fan-out (where a per-user 422 is no longer possible).
   */
  checkData(data: Record<string, unknown>, app: { id: string; name: string }): void;
}

export function templatePlan(t: CompiledTemplate, metrics: TemplateMetrics): TemplatePlan {
  return {
    key: t.record.key,
    version: t.record.version,
    contents: t.record.content,
    locales: t.record.locales,
    localeFor(channel, locale) {
      const picked = pickLocale(t.variantChannels, channel, locale);
      return picked ? (t.tags.get(picked) ?? picked) : t.record.defaultLocale;
    },
    render(channel, locale, scope) {
      const picked = pickLocale(t.variantChannels, channel, locale);
      const compiled = (picked ? t.variants.get(picked) : t.defaults)?.get(channel);
      if (!compiled) return undefined;
      try {
        const out = renderCompiled(compiled, scope) as MessageContent;
        checkRenderedUrls(
          channel,
          out,
          picked ? `locales.${t.tags.get(picked) ?? picked}.${channel}` : `content.${channel}`,
        );
        metrics.renders.inc({ result: 'ok' });
        return out;
      } catch (error) {
        const missing = (error as { details?: { variable?: string } }).details?.variable !== undefined;
        metrics.renders.inc({ result: missing ? 'missing_variable' : 'error' });
        throw error;
      }
    },
    checkData(data, app) {
      const scope = { data, user: new AnyUser(), app: { id: app.id, name: app.name }, links: SAMPLE_LINKS };
      for (const contents of [t.defaults, ...t.variants.values()])
        for (const [channel, compiled] of contents)
          checkRenderedSize(channel, renderCompiled(compiled, scope) as MessageContent, `content.${channel}`);
    },
  };
}
