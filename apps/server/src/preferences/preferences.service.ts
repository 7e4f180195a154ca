import { Inject, Injectable } from '@nestjs/common';
import type { AppSettings } from '../apps/app-settings';
import { InvalidInputError, RefusedError } from '../common/errors/domain-error';
import { ANY } from '../contacts/preference-rules';
import type { QuietHours } from '../contacts/quiet-hours';
import type { RepositoryShape } from '../database/repository-shape';
import { PluginRegistry } from '../plugins/plugin-registry';
import { CORE_CHANNELS } from '../templates/notification-request';
import { PreferenceRepository, type StoredRule } from './preference-repository';
import type { PutPreferences } from './preference-schemas';

export interface PreferencesView {
  userId: string;
  /** The user's time zone, which quiet hours follow (UTC when the user has none). */
  timezone: string | null;
  rules: StoredRule[];
  quietHours: QuietHours | null;
  /** What applies when the user said nothing, and what they cannot silence (for a settings screen). */
  app: { categoryDefaults: AppSettings['categoryDefaults']; criticalCategories: string[] };
}

/** Reads and writes one user's preferences; every opt-out goes through `optOut`. */
@Injectable()
export class PreferencesService {
  constructor(
    @Inject(PreferenceRepository) private readonly prefs: RepositoryShape<PreferenceRepository>,
    private readonly registry: PluginRegistry,
  ) {}

  /** Channels a rule may name: the core ones, those loaded plugins add, and `*`. */
  allowedChannels(): string[] {
    return [
      ...new Set<string>([ANY, ...CORE_CHANNELS, ...this.registry.loaded.map((l) => l.plugin.channel)]),
    ];
  }

  async get(appId: string, settings: AppSettings, externalId: string): Promise<PreferencesView | null> {
    const user = await this.prefs.owner(appId, externalId);
    if (!user) return null;
    const [rules, quietHours] = await Promise.all([
      this.prefs.rules(user.id),
      this.prefs.quietHours(user.id),
    ]);
    return {
      userId: externalId,
      timezone: user.timezone,
      rules,
      quietHours,
      app: { categoryDefaults: settings.categoryDefaults, criticalCategories: settings.criticalCategories },
    };
  }

  /** Checks everything first, then writes in one transaction: a refused request changes nothing. */
  async put(
    appId: string,
    settings: AppSettings,
    externalId: string,
    input: PutPreferences,
    source: string,
  ): Promise<boolean> {
    const allowed = this.allowedChannels();
    const unknown = (input.rules ?? []).filter((r) => !allowed.includes(r.channel));
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `unknown channel "${unknown[0]!.channel}"; allowed: ${allowed.join(', ')}`,
        {
          unknown: unknown.map((r) => r.channel),
          allowed,
        },
      );
    }
    const critical = (input.rules ?? []).filter(
      (r) => r.enabled === false && r.category !== ANY && settings.criticalCategories.includes(r.category),
    );
    if (critical.length > 0) {
      throw new RefusedError(
        'critical_category',
        `category "${critical[0]!.category}" is critical for this app and cannot be turned off (remove the contact instead)`,
        { categories: critical.map((r) => r.category), criticalCategories: settings.criticalCategories },
      );
    }
    return this.prefs.transaction(async (tx) => {
      const userId = await tx.lockOwner(appId, externalId);
      if (!userId) return false;
      for (const rule of input.rules ?? []) {
        const o = { appId, userId, channel: rule.channel, category: rule.category, source };
        if (rule.enabled === false) await tx.optOut(o);
        else if (rule.enabled === true) await tx.optIn(o);
        else await tx.clear(userId, rule.channel, rule.category);
      }
      if (input.quietHours !== undefined) {
        await tx.setQuietHours(
          appId,
          userId,
          input.quietHours === null
            ? null
            : {
                start: input.quietHours.start,
                end: input.quietHours.end,
                categories: input.quietHours.categories ?? null,
              },
        );
      }
      return true;
    });
  }
}
