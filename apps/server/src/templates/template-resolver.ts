import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { TemplateError } from '../common/errors/template-errors';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import type { RepositoryShape } from '../database/repository-shape';
import { type CompiledTemplate, compileTemplate } from './compiled-template';
import { TemplateMetrics } from './template-metrics';
import { type TemplatePlan, templatePlan } from './template-plan';
import { type TemplateHead, TemplateRepository } from './template-repository';

const unknownTemplate = (key: string, why: string, details: Record<string, unknown> = {}) =>
  new TemplateError('unknown_template', `template "${key}" ${why}`, { template: key, ...details });

/** Source characters of compiled versions kept in memory (parsed Liquid is a few times that). */
const MAX_CACHED_SOURCE = 32 * 1024 * 1024;

/** hit: cached; shared: joined another request's read in flight; miss: read the database. */
const outcome = (fetch: string | undefined) =>
  fetch === 'hit' ? 'hit' : fetch === 'inflight' ? 'shared' : 'miss';

interface Ref {
  appId: string;
  key: string;
  version?: number;
}

/**
 * Finds the template version a notification uses, without a database read on the hot path:
 * - compiled versions are cached by app+key+version (immutable, so no expiry; LRU-bounded by
 *   count and by source size);
 * - the head (latest version, archived) is cached for CLARION_TEMPLATE_CACHE_TTL_MS. A publish or
 *   archive in this process drops it at once; other processes see it when their entry expires.
 * Concurrent misses for one entry share a single database read (lru-cache `fetch`).
 */
@Injectable()
export class TemplateResolver {
  private readonly versions: LRUCache<string, CompiledTemplate, Ref>;
  private readonly heads: LRUCache<string, { head: TemplateHead | null }, Ref> | null;

  constructor(
    @Inject(ENV) env: Env,
    @Inject(TemplateRepository) private readonly repo: RepositoryShape<TemplateRepository>,
    private readonly metrics: TemplateMetrics,
  ) {
    this.versions = new LRUCache<string, CompiledTemplate, Ref>({
      max: env.CLARION_TEMPLATE_CACHE_SIZE,
      maxSize: MAX_CACHED_SOURCE,
      sizeCalculation: (t) =>
        JSON.stringify(t.record.content).length + JSON.stringify(t.record.locales).length,
      fetchMethod: async (_k, _stale, { context }) => {
        const record = await this.repo.version(context.appId, context.key, context.version ?? null);
        return record ? compileTemplate(record) : undefined;
      },
    });
    // lru-cache reads ttl 0 as "never expires"; 0 here means "do not cache heads".
    this.heads =
      env.CLARION_TEMPLATE_CACHE_TTL_MS === 0
        ? null
        : new LRUCache<string, { head: TemplateHead | null }, Ref>({
            max: env.CLARION_TEMPLATE_CACHE_SIZE,
            ttl: env.CLARION_TEMPLATE_CACHE_TTL_MS,
            fetchMethod: async (_k, _stale, { context }) => ({
              head: await this.repo.head(context.appId, context.key),
            }),
          });
  }

  /** Called after a publish or archive in this process. */
  invalidate(appId: string, key: string): void {
    this.heads?.delete(`${appId}\u0000${key}`);
  }

  /**
   * The version to plan with: `version`, or the latest. Archived templates are refused unless
   * `allowArchived` (a fan-out of a notification accepted before the archive still goes out).
   */
  async plan(
    appId: string,
    key: string,
    version: number | undefined,
    allowArchived = false,
  ): Promise<TemplatePlan> {
    return templatePlan(await this.compiled(appId, key, version, allowArchived), this.metrics);
  }

  async compiled(
    appId: string,
    key: string,
    version: number | undefined,
    allowArchived = false,
  ): Promise<CompiledTemplate> {
    let head = await this.head(appId, key, false);
    // A version newer than the cached head may have been published by another process.
    if (head && version !== undefined && version > head.latestVersion)
      head = await this.head(appId, key, true);
    if (!head) throw unknownTemplate(key, 'does not exist');
    if (head.archived && !allowArchived) throw unknownTemplate(key, 'is archived');
    const wanted = version ?? head.latestVersion;
    if (wanted > head.latestVersion)
      throw unknownTemplate(key, `has no version ${wanted}`, { version: wanted });
    const status: LRUCache.Status<string, CompiledTemplate> = {};
    const compiled = await this.versions.fetch(`${appId}\u0000${key}\u0000${wanted}`, {
      context: { appId, key, version: wanted },
      status,
    });
    this.metrics.cache.inc({ cache: 'version', result: outcome(status.fetch) });
    if (!compiled) throw unknownTemplate(key, `has no version ${wanted}`, { version: wanted });
    return compiled;
  }

  private async head(appId: string, key: string, fresh: boolean): Promise<TemplateHead | null> {
    if (!this.heads) {
      this.metrics.cache.inc({ cache: 'latest', result: 'miss' });
      return this.repo.head(appId, key);
    }
    const status: LRUCache.Status<string, { head: TemplateHead | null }> = {};
    const entry = await this.heads.fetch(`${appId}\u0000${key}`, {
      context: { appId, key },
      forceRefresh: fresh,
      status,
    });
    this.metrics.cache.inc({ cache: 'latest', result: outcome(status.fetch) });
    return entry?.head ?? null;
  }
}
