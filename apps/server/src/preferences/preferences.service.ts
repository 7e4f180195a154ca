import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppSettings } from '../apps/app-settings';
import { ApiError } from '../common/api-error';
import { CORE_CHANNELS } from '../notifications/notification-request';
import { PluginRegistry } from '../plugins/plugin-registry';
import { optOut } from './opt-out';
import { ANY } from './preference-rules';
import type { PutPreferences } from './preference-schemas';
import { clearPreference, optIn, setQuietHours } from './preference-store';
import type { QuietHours } from './quiet-hours';

export interface PreferencesView {
  userId: string;
  /** The user's time zone, which quiet hours follow (UTC when the user has none). */
  timezone: string | null;
  rules: { channel: string; category: string; enabled: boolean; source: string; updatedAt: string }[];
  quietHours: QuietHours | null;
  /** What applies when the user said nothing, and what they cannot silence (for a settings screen). */
  app: { categoryDefaults: AppSettings['categoryDefaults']; criticalCategories: string[] };
}

/** Reads and writes one user's preferences; every opt-out goes through `optOut`. */
@Injectable()
export class PreferencesService {
  constructor(
    private readonly db: DataSource,
    private readonly registry: PluginRegistry,
  ) {}

  /** Channels a rule may name: the core ones, those loaded plugins add, and `*`. */
  allowedChannels(): string[] {
    return [
      ...new Set<string>([ANY, ...CORE_CHANNELS, ...this.registry.loaded.map((l) => l.plugin.channel)]),
    ];
  }

  async get(appId: string, settings: AppSettings, externalId: string): Promise<PreferencesView | null> {
    const [user]: { id: string; timezone: string | null }[] = await this.db.query(
      'SELECT id, timezone FROM users WHERE app_id = $1 AND external_id = $2',
      [appId, externalId],
    );
    if (!user) return null;
    const [rules, quiet]: [
      PreferencesView['rules'],
      { start: string; end: string; categories: string[] | null }[],
    ] = await Promise.all([
      this.db.query(
        `SELECT channel, category, enabled, source, updated_at AS "updatedAt" FROM user_preferences
          WHERE user_id = $1 ORDER BY channel, category`,
        [user.id],
      ),
      this.db.query(
        'SELECT start_time AS start, end_time AS "end", categories FROM user_quiet_hours WHERE user_id = $1',
        [user.id],
      ),
    ]);
    return {
      userId: externalId,
      timezone: user.timezone,
      rules,
      quietHours: quiet[0] ?? null,
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
      throw new ApiError(
        400,
        'invalid_request',
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
      throw new ApiError(
        422,
        'critical_category',
        `category "${critical[0]!.category}" is critical for this app and cannot be turned off (remove the contact instead)`,
        { categories: critical.map((r) => r.category), criticalCategories: settings.criticalCategories },
      );
    }
    return this.db.transaction(async (tx) => {
      const [user]: { id: string }[] = await tx.query(
        'SELECT id FROM users WHERE app_id = $1 AND external_id = $2 FOR UPDATE',
        [appId, externalId],
      );
      if (!user) return false;
      for (const rule of input.rules ?? []) {
        const o = { appId, userId: user.id, channel: rule.channel, category: rule.category, source };
        if (rule.enabled === false) await optOut(tx, o);
        else if (rule.enabled === true) await optIn(tx, o);
        else await clearPreference(tx, user.id, rule.channel, rule.category);
      }
      if (input.quietHours !== undefined) {
        await setQuietHours(
          tx,
          appId,
          user.id,
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
