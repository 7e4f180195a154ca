import type { AppListing, AppRecord, AppRepository, StoredUserTokenSecrets } from '../apps/app-repository';
import type { AppSettings } from '../apps/app-settings';
import { newId } from '../common/ids';
import type { QuietHours } from '../contacts/quiet-hours';
import type { ContactRow, Recipient } from '../contacts/recipient';
import type { RecipientSource } from '../contacts/user-repository';
import type { RepositoryShape } from '../database/repository-shape';
import type { OptOut, PreferenceRepository, StoredRule } from '../preferences/preference-repository';
import type {
  NewVersion,
  TemplateHead,
  TemplateRepository,
  TemplateVersionRecord,
} from '../templates/template-repository';

/**
 * In-memory stand-ins for the repositories planning reads (apps, users and contacts, preferences,
 * templates), for unit tests of services that run in milliseconds. They keep the semantics the
 * services rely on (upserts, idempotent opt-outs, a transaction that leaves nothing behind when
 * it throws), not the SQL. Values are copied in and out, as a database would.
 */

const copy = <T>(value: T): T => structuredClone(value);

interface StoredUser {
  id: string;
  appId: string;
  externalId: string;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  contacts: ContactRow[];
  topics: Set<string>;
}

/** Rows shared by the user and preference fakes (preferences belong to users, as in PostgreSQL). */
export class InMemoryData {
  readonly users = new Map<string, StoredUser>();
  readonly rules = new Map<string, StoredRule[]>();
  readonly quietHours = new Map<string, QuietHours>();

  userByExternalId(appId: string, externalId: string): StoredUser | undefined {
    for (const u of this.users.values()) if (u.appId === appId && u.externalId === externalId) return u;
    return undefined;
  }

  snapshot(): () => void {
    const rules = copy([...this.rules]);
    const quiet = copy([...this.quietHours]);
    return () => {
      this.rules.clear();
      for (const [k, v] of rules) this.rules.set(k, v);
      this.quietHours.clear();
      for (const [k, v] of quiet) this.quietHours.set(k, v);
    };
  }
}

export interface NewUser {
  locale?: string | null;
  timezone?: string | null;
  attributes?: Record<string, unknown>;
  email?: string;
  phone?: string;
  webhookUrl?: string;
  devices?: { platform: 'ios' | 'android' | 'web'; token: string }[];
  /** Contacts a provider disabled (by address). */
  disabled?: string[];
  topics?: string[];
}

/** Users and contacts as the recipient loader reads them. */
export class InMemoryUsers implements RecipientSource {
  constructor(readonly data: InMemoryData = new InMemoryData()) {}

  /** Adds (or replaces) a user; returns the internal id. */
  add(appId: string, externalId: string, u: NewUser = {}): string {
    const id = this.data.userByExternalId(appId, externalId)?.id ?? newId();
    const contact = (kind: ContactRow['kind'], address: string, platform: ContactRow['platform'] = null) => ({
      id: newId(),
      kind,
      platform,
      address,
      subscription: null,
      channel: null,
      disabled: (u.disabled ?? []).includes(address),
    });
    this.data.users.set(id, {
      id,
      appId,
      externalId,
      locale: u.locale ?? null,
      timezone: u.timezone ?? null,
      attributes: copy(u.attributes ?? {}),
      contacts: [
        ...(u.email ? [contact('email', u.email)] : []),
        ...(u.phone ? [contact('phone', u.phone)] : []),
        ...(u.webhookUrl ? [contact('url', u.webhookUrl)] : []),
        ...(u.devices ?? []).map((d) => contact('device', d.token, d.platform)),
      ],
      topics: new Set(u.topics ?? []),
    });
    return id;
  }

  private recipient(u: StoredUser): Recipient {
    return copy({
      userId: u.id,
      externalId: u.externalId,
      locale: u.locale,
      timezone: u.timezone,
      attributes: u.attributes,
      contacts: u.contacts,
      preferences: (this.data.rules.get(u.id) ?? []).map(({ channel, category, enabled }) => ({
        channel,
        category,
        enabled,
      })),
      quietHours: this.data.quietHours.get(u.id) ?? null,
    });
  }

  async recipients(
    pairs: { appId: string; externalId: string }[],
  ): Promise<(Recipient & { appId: string })[]> {
    return pairs.flatMap((p) => {
      const u = this.data.userByExternalId(p.appId, p.externalId);
      return u ? [{ appId: u.appId, ...this.recipient(u) }] : [];
    });
  }

  async topicPage(
    appId: string,
    topic: string,
    afterUserId: string | null,
    limit: number,
  ): Promise<Recipient[]> {
    return [...this.data.users.values()]
      .filter((u) => u.appId === appId && u.topics.has(topic) && (afterUserId === null || u.id > afterUserId))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((u) => this.recipient(u));
  }
}

/** Preference rules and quiet hours; one row per (user, channel, category), as the unique key in PostgreSQL. */
export class InMemoryPreferences implements RepositoryShape<PreferenceRepository> {
  constructor(readonly data: InMemoryData) {}

  async transaction<T>(fn: (prefs: RepositoryShape<PreferenceRepository>) => Promise<T>): Promise<T> {
    const rollback = this.data.snapshot();
    try {
      return await fn(this);
    } catch (error) {
      rollback();
      throw error;
    }
  }

  async owner(appId: string, externalId: string): Promise<{ id: string; timezone: string | null } | null> {
    const u = this.data.userByExternalId(appId, externalId);
    return u ? { id: u.id, timezone: u.timezone } : null;
  }

  async lockOwner(appId: string, externalId: string): Promise<string | null> {
    return this.data.userByExternalId(appId, externalId)?.id ?? null;
  }

  async rules(userId: string): Promise<StoredRule[]> {
    return copy(this.data.rules.get(userId) ?? []).sort((a, b) =>
      a.channel === b.channel ? a.category.localeCompare(b.category) : a.channel.localeCompare(b.channel),
    );
  }

  async quietHours(userId: string): Promise<QuietHours | null> {
    return copy(this.data.quietHours.get(userId) ?? null);
  }

  private set(o: OptOut, enabled: boolean): void {
    const rules = (this.data.rules.get(o.userId) ?? []).filter(
      (r) => !(r.channel === o.channel && r.category === o.category),
    );
    rules.push({
      channel: o.channel,
      category: o.category,
      enabled,
      source: o.source,
      updatedAt: new Date().toISOString(),
    });
    this.data.rules.set(o.userId, rules);
  }

  async optOut(o: OptOut): Promise<void> {
    this.set(o, false);
  }

  async optIn(o: OptOut): Promise<void> {
    this.set(o, true);
  }

  async withdrawOptOut(o: { userId: string; channel: string; source: string }): Promise<void> {
    const rules = this.data.rules.get(o.userId) ?? [];
    this.data.rules.set(
      o.userId,
      rules.filter((r) => !(r.channel === o.channel && r.source === o.source && !r.enabled)),
    );
  }

  async clear(userId: string, channel: string, category: string): Promise<void> {
    const rules = this.data.rules.get(userId) ?? [];
    this.data.rules.set(
      userId,
      rules.filter((r) => !(r.channel === channel && r.category === category)),
    );
  }

  async setQuietHours(_appId: string, userId: string, qh: QuietHours | null): Promise<void> {
    if (qh === null) this.data.quietHours.delete(userId);
    else this.data.quietHours.set(userId, copy(qh));
  }
}

/** Templates: immutable versions under a head that moves on publish. */
export class InMemoryTemplates implements RepositoryShape<TemplateRepository> {
  private readonly heads = new Map<string, { latestVersion: number; archivedAt: string | null }>();
  private readonly versions = new Map<string, TemplateVersionRecord>();
  /** Reads of a version (the resolver caches them; tests can see that it does). */
  versionReads = 0;

  async publish(appId: string, key: string, input: NewVersion): Promise<TemplateVersionRecord> {
    const head = this.heads.get(`${appId}\u0000${key}`);
    const version = (head?.latestVersion ?? 0) + 1;
    this.heads.set(`${appId}\u0000${key}`, { latestVersion: version, archivedAt: null });
    const record: TemplateVersionRecord = {
      key,
      version,
      latestVersion: version,
      ...copy(input),
      createdAt: new Date().toISOString(),
      archivedAt: null,
    };
    this.versions.set(`${appId}\u0000${key}\u0000${version}`, record);
    return copy(record);
  }

  async head(appId: string, key: string): Promise<TemplateHead | null> {
    const head = this.heads.get(`${appId}\u0000${key}`);
    return head ? { latestVersion: head.latestVersion, archived: head.archivedAt !== null } : null;
  }

  async version(appId: string, key: string, version: number | null): Promise<TemplateVersionRecord | null> {
    const head = this.heads.get(`${appId}\u0000${key}`);
    if (!head) return null;
    this.versionReads += 1;
    const record = this.versions.get(`${appId}\u0000${key}\u0000${version ?? head.latestVersion}`);
    return record
      ? { ...copy(record), latestVersion: head.latestVersion, archivedAt: head.archivedAt }
      : null;
  }

  async list(
    appId: string,
    includeArchived: boolean,
    after: string | null,
    limit: number,
  ): Promise<TemplateVersionRecord[]> {
    const keys = [...this.heads.keys()]
      .filter((k) => k.startsWith(`${appId}\u0000`))
      .map((k) => k.slice(appId.length + 1))
      .filter((k) => after === null || k > after)
      .sort();
    const found: TemplateVersionRecord[] = [];
    for (const key of keys) {
      const record = await this.version(appId, key, null);
      if (record && (includeArchived || record.archivedAt === null)) found.push(record);
    }
    return found.slice(0, limit);
  }

  async archive(appId: string, key: string): Promise<boolean> {
    const head = this.heads.get(`${appId}\u0000${key}`);
    if (!head) return false;
    head.archivedAt ??= new Date().toISOString();
    return true;
  }
}

/** Apps with their settings and (sealed) user-token secrets. */
export class InMemoryApps implements RepositoryShape<AppRepository> {
  private readonly apps = new Map<
    string,
    { app: AppRecord; createdAt: Date; secret: string; previous: string | null; previousUntil: number }
  >();

  async insert(app: AppRecord, sealedUserTokenSecret: string): Promise<void> {
    this.apps.set(app.id, {
      app: copy(app),
      createdAt: new Date(),
      secret: sealedUserTokenSecret,
      previous: null,
      previousUntil: 0,
    });
  }

  async find(appId: string): Promise<AppRecord | null> {
    return copy(this.apps.get(appId)?.app ?? null);
  }

  async exists(appId: string): Promise<boolean> {
    return this.apps.has(appId);
  }

  async list(): Promise<AppListing[]> {
    return [...this.apps.values()].map((a) => ({ id: a.app.id, name: a.app.name, createdAt: a.createdAt }));
  }

  async mergeSettings(appId: string, merge: (stored: unknown) => AppSettings): Promise<AppSettings | null> {
    const row = this.apps.get(appId);
    if (!row) return null;
    const merged = merge(copy(row.app.settings));
    row.app.settings = copy(merged);
    return merged;
  }

  async updateSettings(appId: string, settings: AppSettings): Promise<boolean> {
    const row = this.apps.get(appId);
    if (row) row.app.settings = copy(settings);
    return row !== undefined;
  }

  async corsOrigins(): Promise<string[]> {
    const origins = [...this.apps.values()].flatMap((a) => a.app.settings.corsOrigins ?? []);
    return [...new Set(origins.map((o) => o.toLowerCase()))];
  }

  async userTokenSecrets(appId: string): Promise<StoredUserTokenSecrets | null> {
    const row = this.apps.get(appId);
    return row
      ? { current: row.secret, previous: row.previous, previousValid: row.previousUntil > Date.now() }
      : null;
  }

  async rotateUserTokenSecret(
    appId: string,
    next: string,
    reseal: (storedCurrent: string) => string,
    graceSeconds: number,
  ): Promise<Date | null> {
    const row = this.apps.get(appId);
    if (!row) return null;
    row.previous = reseal(row.secret);
    row.secret = next;
    row.previousUntil = Date.now() + graceSeconds * 1000;
    return new Date(row.previousUntil);
  }

  async plaintextUserTokenSecrets(): Promise<{ appId: string; secret: string }[]> {
    return [...this.apps.values()]
      .filter((a) => !a.secret.startsWith('v1.'))
      .map((a) => ({ appId: a.app.id, secret: a.secret }));
  }

  async replaceUserTokenSecret(appId: string, was: string, next: string): Promise<boolean> {
    const row = this.apps.get(appId);
    if (!row || row.secret !== was) return false;
    row.secret = next;
    return true;
  }
}
