import type { MessageContent } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import { ApiError } from '../common/api-error';
import { NotFoundError } from '../common/errors/domain-error';
import { TemplateError } from '../common/errors/template-errors';
import { RecipientLoader } from '../contacts/recipient-loader';
import { textFromHtml } from './email-text';
import type { ChannelContents } from './notification-request';
import { renderScope } from './render-scope';
import {
  type ChannelChecks,
  channelChecks,
  estimateChecks,
  oversized,
  syntaxErrors,
} from './template-checks';
import { TemplateMetrics } from './template-metrics';
import { templatePlan } from './template-plan';
import { TemplateRepository, type TemplateVersionRecord } from './template-repository';
import { TemplateResolver } from './template-resolver';
import type { PreviewRequest, PublishTemplate } from './template-schemas';

export interface PreviewResult {
  key: string;
  version: number;
  /** Per channel: the locale variant used (null: the default content without a declared locale). */
  locales: Record<string, string | null>;
  content: ChannelContents;
  checks: ChannelChecks;
}

/** Publishing (with save-time checks), reading, archiving and previewing templates. */
@Injectable()
export class TemplatesService {
  constructor(
    private readonly repo: TemplateRepository,
    private readonly resolver: TemplateResolver,
    private readonly metrics: TemplateMetrics,
    private readonly recipients: RecipientLoader,
  ) {}

  /**
   * Refuses Liquid syntax errors (line and column) and push payloads over a provider's limit,
   * estimated from the sample when one is given, else from the static text alone. Nothing is
   * written for a refused template.
   */
  async publish(app: AppRecord, key: string, input: PublishTemplate): Promise<TemplateVersionRecord> {
    const problems = syntaxErrors(input.content, input.locales);
    if (problems.length > 0) {
      this.metrics.publishes.inc({ result: 'syntax_error' });
      const p = problems[0]!;
      throw new TemplateError(
        'template_syntax_error',
        `${p.path}: line ${p.line}, column ${p.column}: ${p.message}`,
        problems,
      );
    }
    const scope = renderScope(input.sample?.data ?? {}, input.sample?.user ?? {}, app);
    const checks = estimateChecks(input.content, input.locales, scope, input.sample ? 'sample' : 'static');
    const over = oversized(checks);
    if (over.length > 0) {
      this.metrics.publishes.inc({ result: 'payload_too_large' });
      const o = over[0]!;
      // Not a TemplateError: the code is shared with the 413 of an oversized body, and this one is a 422.
      throw new ApiError(
        422,
        'payload_too_large',
        `${o.channel} (${o.locale}): the ${o.provider} payload would be ${o.bytes} bytes, over its ${o.limit}-byte limit`,
        over,
      );
    }
    const record = await this.repo.publish(app.id, key, {
      description: input.description ?? null,
      defaultLocale: input.defaultLocale ?? null,
      content: input.content,
      locales: input.locales,
      checks,
    });
    this.resolver.invalidate(app.id, key);
    this.metrics.publishes.inc({ result: 'published' });
    return record;
  }

  async get(appId: string, key: string, version: number | null): Promise<TemplateVersionRecord> {
    const found = await this.repo.version(appId, key, version);
    if (!found) throw new NotFoundError(version === null ? 'template' : 'template version');
    return found;
  }

  list(
    appId: string,
    includeArchived: boolean,
    after: string | null,
    limit: number,
  ): Promise<TemplateVersionRecord[]> {
    return this.repo.list(appId, includeArchived, after, limit);
  }

  async archive(appId: string, key: string): Promise<void> {
    if (!(await this.repo.archive(appId, key))) throw new NotFoundError('template');
    this.resolver.invalidate(appId, key);
  }

  /** Renders exactly as a send would (strict variables, locale fallback) without sending or storing anything. */
  async preview(app: AppRecord, key: string, input: PreviewRequest): Promise<PreviewResult> {
    const compiled = await this.resolver
      .compiled(app.id, key, input.version, true)
      .catch((error: unknown) => {
        throw error instanceof TemplateError && error.code === 'unknown_template'
          ? new NotFoundError(input.version ? 'template version' : 'template')
          : error;
      });
    let user = input.user ?? {};
    if (input.userId !== undefined) {
      const found = (await this.recipients.load(app.id, [input.userId])).get(input.userId);
      if (!found) throw new NotFoundError('user');
      user = {
        id: found.externalId,
        locale: found.locale,
        timezone: found.timezone,
        attributes: found.attributes,
      };
    }
    const locale = input.locale ?? user.locale ?? null;
    const scope = renderScope(input.data, user, app);
    const plan = templatePlan(compiled, this.metrics);
    const channels = input.channels ?? Object.keys(compiled.record.content);
    const content: Record<string, MessageContent> = {};
    const locales: Record<string, string | null> = {};
    for (const channel of channels) {
      const rendered = plan.render(channel, locale, scope);
      if (rendered === undefined) continue;
      // What an e-mail plugin sends as the text part when the template has only HTML.
      if (channel === 'email' && rendered.text === undefined && rendered.html !== undefined)
        rendered.text = textFromHtml(rendered.html);
      content[channel] = rendered;
      locales[channel] = plan.localeFor(channel, locale);
    }
    return {
      key,
      version: compiled.record.version,
      locales,
      content: content as ChannelContents,
      checks: channelChecks(content as ChannelContents),
    };
  }
}
