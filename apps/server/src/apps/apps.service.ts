import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type CreatedKey, KeyService } from '../auth/key.service';
import { newId } from '../common/ids';
import { mergePatch } from '../common/merge-patch';
import { validate } from '../common/validate';
import { rows } from '../database/rows';
import { type AppSettings, appSettingsSchema } from './app-settings';
import { SecretBox } from './secret-box';
import {
  newUserTokenSecret,
  openSecret,
  readUserTokenSecrets,
  sealPlaintextUserTokenSecrets,
} from './user-token-secrets';

export interface AppRecord {
  id: string;
  name: string;
  settings: AppSettings;
}

/** How long cached apps and user-token secrets are trusted in a process (a rotation elsewhere shows up after this). */
const CACHE_MS = 5_000;

/** Apps (tenants). Read on every request, so cached briefly per process. */
@Injectable()
export class AppsService implements OnApplicationBootstrap {
  private readonly cache = new Map<string, { app: AppRecord | null; expires: number }>();
  private readonly secrets = new Map<string, { secrets: string[]; expires: number }>();
  private readonly log = new Logger('apps');

  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyService,
    private readonly box: SecretBox,
  ) {}

  /**
   * Secrets written in plaintext by an earlier version are sealed as soon as a process with the key
   * starts. A database away at start must not stop the process: the next start seals them.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await sealPlaintextUserTokenSecrets(this.db, this.box);
    } catch (error) {
      this.log.warn(`user-token secrets not sealed yet: ${(error as Error).message}`);
    }
  }

  async create(
    name: string,
    settings: Partial<AppSettings> = {},
  ): Promise<{ app: AppRecord; key: CreatedKey; userTokenSecret: string }> {
    const app: AppRecord = { id: newId(), name, settings: appSettingsSchema.parse(settings) };
    const userTokenSecret = newUserTokenSecret();
    await this.db.query('INSERT INTO apps (id, name, settings, user_token_secret) VALUES ($1, $2, $3, $4)', [
      app.id,
      name,
      JSON.stringify(app.settings),
      this.box.seal(userTokenSecret),
    ]);
    const key = await this.keys.create(app.id, 'server', 'default');
    return { app, key, userTokenSecret };
  }

  async get(appId: string): Promise<AppRecord | null> {
    const hit = this.cache.get(appId);
    if (hit && hit.expires > Date.now()) return hit.app;
    const rows: { id: string; name: string; settings: unknown }[] = await this.db.query(
      'SELECT id, name, settings FROM apps WHERE id = $1',
      [appId],
    );
    const row = rows[0];
    const app = row ? { id: row.id, name: row.name, settings: appSettingsSchema.parse(row.settings) } : null;
    this.cache.set(appId, { app, expires: Date.now() + CACHE_MS });
    return app;
  }

  /** The secrets a user token of this app may be signed with now (current first; the previous one during its grace). */
  async userTokenSecrets(appId: string): Promise<string[]> {
    const hit = this.secrets.get(appId);
    if (hit && hit.expires > Date.now()) return hit.secrets;
    const secrets = await readUserTokenSecrets(this.db, this.box, appId);
    this.secrets.set(appId, { secrets, expires: Date.now() + CACHE_MS });
    return secrets;
  }

  /**
   * A new user-token secret; tokens signed with the one it replaces keep verifying for
   * `graceSeconds` (0: at once no more), so backends can switch over without signing users out.
   */
  async rotateUserTokenSecret(
    appId: string,
    graceSeconds: number,
  ): Promise<{ userTokenSecret: string; previousValidUntil: Date } | null> {
    const userTokenSecret = newUserTokenSecret();
    const result = await this.db.transaction(async (tx) => {
      const [row]: { current: string }[] = await tx.query(
        'SELECT user_token_secret AS current FROM apps WHERE id = $1 FOR UPDATE',
        [appId],
      );
      if (!row) return null;
      const [updated] = await rows<{ until: Date }>(
        tx,
        `UPDATE apps SET user_token_secret = $2, previous_user_token_secret = $3,
                previous_user_token_secret_until = now() + make_interval(secs => $4)
          WHERE id = $1 RETURNING previous_user_token_secret_until AS until`,
        [
          appId,
          this.box.seal(userTokenSecret),
          this.box.seal(openSecret(this.box, row.current)),
          graceSeconds,
        ],
      );
      return updated ?? null;
    });
    this.secrets.delete(appId);
    return result ? { userTokenSecret, previousValidUntil: result.until } : null;
  }

  async list(): Promise<{ id: string; name: string; createdAt: Date }[]> {
    return this.db.query('SELECT id, name, created_at AS "createdAt" FROM apps ORDER BY created_at');
  }

  /**
   * Applies a JSON Merge Patch to the stored settings and validates the result as a whole. The row
   * is locked meanwhile: two concurrent patches of different settings both land. Null: no such app.
   */
  /** `check` may refuse the merged settings (by throwing); nothing is written then. */
  async patchSettings(
    appId: string,
    patch: Record<string, unknown>,
    check: (merged: AppSettings) => void = () => {},
  ): Promise<AppSettings | null> {
    const settings = await this.db.transaction(async (tx) => {
      const [row]: { settings: unknown }[] = await tx.query(
        'SELECT settings FROM apps WHERE id = $1 FOR UPDATE',
        [appId],
      );
      if (!row) return null;
      const merged = validate(appSettingsSchema, mergePatch(row.settings, patch));
      check(merged);
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
