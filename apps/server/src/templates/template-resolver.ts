import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ApiError } from '../common/api-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { type CompiledTemplate, compileTemplate } from './compiled-template';
import { TemplateMetrics } from './template-metrics';
import { type TemplatePlan, templatePlan } from './template-plan';
import { type TemplateHead, TemplateRepository } from './template-repository';

const unknownTemplate = (key: string, why: string, details: Record<string, unknown> = {}) =>
  new ApiError(422, 'unknown_template', `template "${key}" ${why}`, { template: key, ...details });

/**
 * Finds the template version a notification uses, without a database read on the hot path:
 * - compiled versions are cached by app+key+version (immutable, so no expiry; LRU-bounded);
 * - the head (latest version, archived) is cached for CLARION_TEMPLATE_CACHE_TTL_MS. A publish or
 *   archive in this process drops it at once; other processes see it when their entry expires.
 */
@Injectable()
export class TemplateResolver {
  private readonly versions: LRUCache<string, CompiledTemplate>;
  private readonly heads: LRUCache<string, { head: TemplateHead | null }>;

  constructor(
    @Inject(ENV) env: Env,
    private readonly repo: TemplateRepository,
    private readonly metrics: TemplateMetrics,
  ) {
    this.versions = new LRUCache({ max: env.CLARION_TEMPLATE_CACHE_SIZE });
    this.heads = new LRUCache({
      max: env.CLARION_TEMPLATE_CACHE_SIZE,
      ttl: env.CLARION_TEMPLATE_CACHE_TTL_MS,
    });
  }

  /** Called after a publish or archive in this process. */
  invalidate(appId: string, key: string): void {
    this.heads.delete(`${appId}\u0000${key}`);
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
    const cacheKey = `${appId}\u0000${key}\u0000${wanted}`;
    const hit = this.versions.get(cacheKey);
    this.metrics.cache.inc({ cache: 'version', result: hit ? 'hit' : 'miss' });
    if (hit) return hit;
    const record = await this.repo.version(appId, key, wanted);
    if (!record) throw unknownTemplate(key, `has no version ${wanted}`, { version: wanted });
    const compiled = compileTemplate(record);
    this.versions.set(cacheKey, compiled);
    return compiled;
  }

  private async head(appId: string, key: string, fresh: boolean): Promise<TemplateHead | null> {
    const cacheKey = `${appId}\u0000${key}`;
    const hit = fresh ? undefined : this.heads.get(cacheKey);
    this.metrics.cache.inc({ cache: 'latest', result: hit ? 'hit' : 'miss' });
    if (hit) return hit.head;
    const head = await this.repo.head(appId, key);
    this.heads.set(cacheKey, { head });
    return head;
  }
}
