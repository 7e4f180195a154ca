import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type CreatedKey, KeyService } from '../auth/key.service';
import { newId } from '../common/ids';
import { mergePatch } from '../common/merge-patch';
import { validate } from '../common/validate';
import { rows } from '../database/rows';
import { type AppSettings, appSettingsSchema } from './app-settings';

export interface AppRecord {
  id: string;
  name: string;
  settings: AppSettings;
  userTokenSecret: string;
}

/** Apps (tenants). Read on every request, so cached briefly per process. */
@Injectable()
export class AppsService {
  private readonly cache = new Map<string, { app: AppRecord | null; expires: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyService,
  ) {}

  async create(
    name: string,
    settings: Partial<AppSettings> = {},
  ): Promise<{ app: AppRecord; key: CreatedKey }> {
    const app: AppRecord = {
      id: newId(),
      name,
      settings: appSettingsSchema.parse(settings),
      userTokenSecret: randomBytes(32).toString('base64url'),
    };
    await this.db.query('INSERT INTO apps (id, name, settings, user_token_secret) VALUES ($1, $2, $3, $4)', [
      app.id,
      name,
      JSON.stringify(app.settings),
      app.userTokenSecret,
    ]);
    const key = await this.keys.create(app.id, 'server', 'default');
    return { app, key };
  }

  async get(appId: string): Promise<AppRecord | null> {
    const hit = this.cache.get(appId);
    if (hit && hit.expires > Date.now()) return hit.app;
    const rows: { id: string; name: string; settings: unknown; user_token_secret: string }[] =
      await this.db.query('SELECT id, name, settings, user_token_secret FROM apps WHERE id = $1', [appId]);
    const row = rows[0];
    const app = row
      ? {
          id: row.id,
          name: row.name,
          settings: appSettingsSchema.parse(row.settings),
          userTokenSecret: row.user_token_secret,
        }
      : null;
    this.cache.set(appId, { app, expires: Date.now() + 5_000 });
    return app;
  }

  async list(): Promise<{ id: string; name: string; createdAt: Date }[]> {
    return this.db.query('SELECT id, name, created_at AS "createdAt" FROM apps ORDER BY created_at');
  }

  /**
   * Applies a JSON Merge Patch to the stored settings and validates the result as a whole. The row
   * is locked meanwhile: two concurrent patches of different settings both land. Null: no such app.
   */
  async patchSettings(appId: string, patch: Record<string, unknown>): Promise<AppSettings | null> {
    const settings = await this.db.transaction(async (tx) => {
      const [row]: { settings: unknown }[] = await tx.query(
        'SELECT settings FROM apps WHERE id = $1 FOR UPDATE',
        [appId],
      );
      if (!row) return null;
      const merged = validate(appSettingsSchema, mergePatch(row.settings, patch));
      await tx.query('UPDATE apps SET settings = $2 WHERE id = $1', [appId, JSON.stringify(merged)]);
      return merged;
    });
    this.cache.delete(appId);
    return settings;
  }

  async updateSettings(appId: string, settings: AppSettings): Promise<boolean> {
    const updated = await rows(this.db, 'UPDATE apps SET settings = $2 WHERE id = $1 RETURNING id', [
      appId,
      JSON.stringify(settings),
    ]);
    this.cache.delete(appId);
    return updated.length > 0;
  }
}
