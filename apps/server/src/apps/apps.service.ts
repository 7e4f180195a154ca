import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { newId } from '../common/ids';
import { mergePatch } from '../common/merge-patch';
import { validate } from '../common/validate';
import type { RepositoryShape } from '../database/repository-shape';
import { type AppListing, type AppRecord, AppRepository } from './app-repository';
import { type AppSettings, appSettingsSchema } from './app-settings';
import { type CreatedKey, KeyService } from './key.service';
import { SecretBox } from './secret-box';
import {
  newUserTokenSecret,
  openSecret,
  readUserTokenSecrets,
  sealPlaintextUserTokenSecrets,
} from './user-token-secrets';

export type { AppRecord } from './app-repository';

/** How long cached apps and user-token secrets are trusted in a process (a rotation elsewhere shows up after this). */
const CACHE_MS = 5_000;

/** Apps (tenants). Read on every request, so cached briefly per process. */
@Injectable()
export class AppsService implements OnApplicationBootstrap {
  private readonly cache = new Map<string, { app: AppRecord | null; expires: number }>();
  private readonly secrets = new Map<string, { secrets: string[]; expires: number }>();
  private readonly log = new Logger('apps');

  constructor(
    @Inject(AppRepository) private readonly repo: RepositoryShape<AppRepository>,
    private readonly keys: KeyService,
    private readonly box: SecretBox,
  ) {}

  /**
   * Secrets written in plaintext by an earlier version are sealed as soon as a process with the key
   * starts. A database away at start must not stop the process: the next start seals them.
   */
  async onApplicationBootstrap(): Promise<void> {
    try {
      await sealPlaintextUserTokenSecrets(this.repo, this.box);
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
    await this.repo.insert(app, this.box.seal(userTokenSecret));
    const key = await this.keys.create(app.id, 'server', 'default');
    return { app, key, userTokenSecret };
  }

  async get(appId: string): Promise<AppRecord | null> {
    const hit = this.cache.get(appId);
    if (hit && hit.expires > Date.now()) return hit.app;
    const app = await this.repo.find(appId);
    this.cache.set(appId, { app, expires: Date.now() + CACHE_MS });
    return app;
  }

  /** The secrets a user token of this app may be signed with now (current first; the previous one during its grace). */
  async userTokenSecrets(appId: string): Promise<string[]> {
    const hit = this.secrets.get(appId);
    if (hit && hit.expires > Date.now()) return hit.secrets;
    const secrets = await readUserTokenSecrets(this.repo, this.box, appId);
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
    const until = await this.repo.rotateUserTokenSecret(
      appId,
      this.box.seal(userTokenSecret),
      (current) => this.box.seal(openSecret(this.box, current)),
      graceSeconds,
    );
    this.secrets.delete(appId);
    return until ? { userTokenSecret, previousValidUntil: until } : null;
  }

  async list(): Promise<AppListing[]> {
    return this.repo.list();
  }

  /**
   * Applies a JSON Merge Patch to the stored settings and validates the result as a whole. The row
   * is locked meanwhile: two concurrent patches of different settings both land. Null: no such app.
   * `check` may refuse the merged settings (by throwing); nothing is written then.
   */
  async patchSettings(
    appId: string,
    patch: Record<string, unknown>,
    check: (merged: AppSettings) => void = () => {},
  ): Promise<AppSettings | null> {
    const settings = await this.repo.mergeSettings(appId, (stored) => {
      const merged = validate(appSettingsSchema, mergePatch(stored, patch));
      check(merged);
      return merged;
    });
    this.cache.delete(appId);
    return settings;
  }

  async updateSettings(appId: string, settings: AppSettings): Promise<boolean> {
    const updated = await this.repo.updateSettings(appId, settings);
    this.cache.delete(appId);
    return updated;
  }
}
