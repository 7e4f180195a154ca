import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../database/rows';
import { type AppSettings, appSettingsSchema } from './app-settings';

export interface AppRecord {
  id: string;
  name: string;
  settings: AppSettings;
}

export interface AppListing {
  id: string;
  name: string;
  createdAt: Date;
}

/** An app's stored user-token secrets (sealed, or plaintext from an earlier version). */
export interface StoredUserTokenSecrets {
  current: string;
  previous: string | null;
  /** The previous secret is still within its grace. */
  previousValid: boolean;
}

/** Apps (tenants) in PostgreSQL: name, settings, user-token secrets. */
@Injectable()
export class AppRepository {
  constructor(private readonly db: DataSource) {}

  async insert(app: AppRecord, sealedUserTokenSecret: string): Promise<void> {
    await this.db.query('INSERT INTO apps (id, name, settings, user_token_secret) VALUES ($1, $2, $3, $4)', [
      app.id,
      app.name,
      JSON.stringify(app.settings),
      sealedUserTokenSecret,
    ]);
  }

  async find(appId: string): Promise<AppRecord | null> {
    const [row] = await rows<{ id: string; name: string; settings: unknown }>(
      this.db,
      'SELECT id, name, settings FROM apps WHERE id = $1',
      [appId],
    );
    return row ? { id: row.id, name: row.name, settings: appSettingsSchema.parse(row.settings) } : null;
  }

  async exists(appId: string): Promise<boolean> {
    return (await rows(this.db, 'SELECT id FROM apps WHERE id = $1', [appId])).length > 0;
  }

  async list(): Promise<AppListing[]> {
    return rows<AppListing>(
      this.db,
      'SELECT id, name, created_at AS "createdAt" FROM apps ORDER BY created_at',
    );
  }

  /**
   * Replaces the settings with `merge(stored)` while the row is locked, so two concurrent patches
   * of different settings both land. `merge` may throw to refuse; nothing is written then.
   * Null: no such app.
   */
  async mergeSettings(appId: string, merge: (stored: unknown) => AppSettings): Promise<AppSettings | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await rows<{ settings: unknown }>(
        tx,
        'SELECT settings FROM apps WHERE id = $1 FOR UPDATE',
        [appId],
      );
      if (!row) return null;
      const merged = merge(row.settings);
      await tx.query('UPDATE apps SET settings = $2 WHERE id = $1', [appId, JSON.stringify(merged)]);
      return merged;
    });
  }

  async updateSettings(appId: string, settings: AppSettings): Promise<boolean> {
    const updated = await rows(this.db, 'UPDATE apps SET settings = $2 WHERE id = $1 RETURNING id', [
      appId,
      JSON.stringify(settings),
    ]);
    return updated.length > 0;
  }

  /** Every origin some app lists in `corsOrigins`, lower-cased. */
  async corsOrigins(): Promise<string[]> {
    const found = await rows<{ origin: string }>(
      this.db,
      `SELECT DISTINCT lower(o) AS origin
         FROM apps, jsonb_array_elements_text(COALESCE(settings->'corsOrigins', '[]'::jsonb)) AS o`,
    );
    return found.map((r) => r.origin);
  }

  async userTokenSecrets(appId: string): Promise<StoredUserTokenSecrets | null> {
    const [row] = await rows<{ current: string; previous: string | null; previous_valid: boolean }>(
      this.db,
      `SELECT user_token_secret AS current, previous_user_token_secret AS previous,
              coalesce(previous_user_token_secret_until > now(), false) AS previous_valid
         FROM apps WHERE id = $1`,
      [appId],
    );
    return row ? { current: row.current, previous: row.previous, previousValid: row.previous_valid } : null;
  }

  /**
   * Makes `next` the current user-token secret and `reseal(stored current)` the previous one, valid
   * for `graceSeconds` more, with the row locked. Null: no such app.
   */
  async rotateUserTokenSecret(
    appId: string,
    next: string,
    reseal: (storedCurrent: string) => string,
    graceSeconds: number,
  ): Promise<Date | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await rows<{ current: string }>(
        tx,
        'SELECT user_token_secret AS current FROM apps WHERE id = $1 FOR UPDATE',
        [appId],
      );
      if (!row) return null;
      const [updated] = await rows<{ until: Date }>(
        tx,
        `UPDATE apps SET user_token_secret = $2, previous_user_token_secret = $3,
                previous_user_token_secret_until = now() + make_interval(secs => $4)
          WHERE id = $1 RETURNING previous_user_token_secret_until AS until`,
        [appId, next, reseal(row.current), graceSeconds],
      );
      return updated?.until ?? null;
    });
  }

  /** Apps whose current user-token secret is not sealed (`v1.` prefix) yet. */
  async plaintextUserTokenSecrets(): Promise<{ appId: string; secret: string }[]> {
    const found = await rows<{ id: string; user_token_secret: string }>(
      this.db,
      `SELECT id, user_token_secret FROM apps WHERE user_token_secret NOT LIKE 'v1.%'`,
    );
    return found.map((r) => ({ appId: r.id, secret: r.user_token_secret }));
  }

  /** Replaces the secret only if it still is `was` (safe when several processes seal at once). */
  async replaceUserTokenSecret(appId: string, was: string, next: string): Promise<boolean> {
    const updated = await rows(
      this.db,
      'UPDATE apps SET user_token_secret = $3 WHERE id = $1 AND user_token_secret = $2 RETURNING id',
      [appId, was, next],
    );
    return updated.length > 0;
  }
}
