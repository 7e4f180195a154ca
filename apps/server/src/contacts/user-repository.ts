import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { newId } from '../common/ids';
import { preparedQuery } from '../database/prepared';
import { rows } from '../database/rows';
import type { PreferenceRule } from './preference-rules';
import type { QuietHours } from './quiet-hours';
import type { ContactRow, Recipient } from './recipient';

/** The profile fields a write may set; undefined leaves a field alone, null clears it. */
export interface UserFields {
  locale?: string | null;
  timezone?: string | null;
  attributes?: Record<string, unknown>;
}

export interface UserProfile {
  id: string;
  userId: string;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface StoredContact {
  id: string;
  kind: string;
  platform: string | null;
  address: string;
  /** The plugin channel this address is for (`slack`); null for the core contacts. */
  channel: string | null;
  disabledAt: Date | null;
  disabledReason: string | null;
}

export interface DeviceWrite {
  platform: string;
  address: string;
  /** The Web Push subscription as JSON, or null for a token. */
  subscription: string | null;
}

/** A user by the app's id for them, for lookups across apps (an inbound SMS names only a number). */
export interface UserRef {
  appId: string;
  userId: string;
}

interface RecipientRow {
  app_id: string;
  user_id: string;
  external_id: string;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  contacts: ContactRow[] | null;
  preferences: PreferenceRule[] | null;
  quiet_hours: QuietHours | null;
}

const RECIPIENT = `
  SELECT u.app_id, u.id AS user_id, u.external_id, u.locale, u.timezone, u.attributes,
         (SELECT json_agg(json_build_object('id', c.id, 'kind', c.kind, 'platform', c.platform, 'address', c.address,
                 'subscription', c.subscription, 'channel', c.channel, 'disabled', c.disabled_at IS NOT NULL) ORDER BY c.created_at)
            FROM contacts c WHERE c.user_id = u.id) AS contacts,
         (SELECT json_agg(json_build_object('channel', p.channel, 'category', p.category, 'enabled', p.enabled))
            FROM user_preferences p WHERE p.user_id = u.id) AS preferences,
         (SELECT json_build_object('start', q.start_time, 'end', q.end_time, 'categories', q.categories)
            FROM user_quiet_hours q WHERE q.user_id = u.id) AS quiet_hours
  FROM users u`;

/**
 * One page of a topic's subscribers after a user id, in id order. The page is cut from the
 * subscriptions' own key (app, topic, user) before the join: written with the cursor on `u.id`,
 * PostgreSQL (which carries equalities, not ranges, across a join) merged both tables from their
 * start on every page, and a million-subscriber fan-out slowed page by page (1.3 s a page at
 * 600,000 in; `contacts/topic-page-plan.test.ts`). Each user is then read by its key (a lateral
 * lookup, `OFFSET 0` keeping the planner from flattening it into a join that scans users).
 */
export const TOPIC_PAGE_SQL = `
  SELECT r.* FROM (SELECT user_id FROM topic_subscriptions
                    WHERE app_id = $1 AND topic = $2 AND ($3::uuid IS NULL OR user_id > $3::uuid)
                    ORDER BY user_id LIMIT $4) t
  CROSS JOIN LATERAL (${RECIPIENT} WHERE u.id = t.user_id OFFSET 0) r
  ORDER BY r.user_id`;

const toRecipient = (r: RecipientRow): Recipient & { appId: string } => ({
  appId: r.app_id,
  userId: r.user_id,
  externalId: r.external_id,
  locale: r.locale,
  timezone: r.timezone,
  attributes: r.attributes,
  contacts: r.contacts ?? [],
  preferences: r.preferences ?? [],
  quietHours: r.quiet_hours,
});

/** What loading recipients needs: the planner's view of users and contacts (faked in unit tests). */
export interface RecipientSource {
  /** Recipients for (app, external id) pairs; unknown pairs are absent. One query for all. */
  recipients(pairs: { appId: string; externalId: string }[]): Promise<(Recipient & { appId: string })[]>;
  /** A page of a topic's subscribers, by internal user id order. */
  topicPage(appId: string, topic: string, afterUserId: string | null, limit: number): Promise<Recipient[]>;
}

/**
 * Users, their contacts and topic subscriptions in PostgreSQL. `transaction` hands a repository
 * bound to one transaction, so a service can compose several writes atomically.
 */
@Injectable()
export class UserRepository implements RecipientSource {
  private q: DataSource | EntityManager;

  constructor(db: DataSource) {
    this.q = db;
  }

  transaction<T>(fn: (users: UserRepository) => Promise<T>): Promise<T> {
    return this.q.transaction(async (tx) => {
      const bound = Object.create(UserRepository.prototype) as UserRepository;
      bound.q = tx;
      return fn(bound);
    });
  }

  /**
   * Creates the user or updates the fields given (attributes merged over the stored ones).
   * `attributeBytes`: the stored attributes' size once merged.
   */
  async ensure(
    appId: string,
    externalId: string,
    input: UserFields = {},
  ): Promise<{ id: string; created: boolean; attributeBytes: number }> {
    const [row] = await rows<{ id: string; created: boolean; bytes: number }>(
      this.q,
      `INSERT INTO users (id, app_id, external_id, locale, timezone, attributes)
       VALUES ($1, $2, $3, $4, $5, COALESCE($6::jsonb, '{}'))
       ON CONFLICT (app_id, external_id) DO UPDATE SET
         locale = CASE WHEN $7 THEN EXCLUDED.locale ELSE users.locale END,
         timezone = CASE WHEN $8 THEN EXCLUDED.timezone ELSE users.timezone END,
         attributes = CASE WHEN $6::jsonb IS NULL THEN users.attributes ELSE users.attributes || $6::jsonb END,
         updated_at = now()
       RETURNING id, xmax = 0 AS created, octet_length(attributes::text) AS bytes`,
      [
        newId(),
        appId,
        externalId,
        input.locale ?? null,
        input.timezone ?? null,
        input.attributes ? JSON.stringify(input.attributes) : null,
        input.locale !== undefined,
        input.timezone !== undefined,
      ],
    );
    return { id: row!.id, created: row!.created, attributeBytes: Number(row!.bytes) };
  }

  /** The internal id of an app's user, or null. */
  async idOf(appId: string, externalId: string): Promise<string | null> {
    const [row] = await rows<{ id: string }>(
      this.q,
      'SELECT id FROM users WHERE app_id = $1 AND external_id = $2',
      [appId, externalId],
    );
    return row?.id ?? null;
  }

  /** Locks the user's row for the rest of the transaction; null when there is no such user. */
  async lockedIdOf(appId: string, externalId: string): Promise<string | null> {
    const [row] = await rows<{ id: string }>(
      this.q,
      'SELECT id FROM users WHERE app_id = $1 AND external_id = $2 FOR UPDATE',
      [appId, externalId],
    );
    return row?.id ?? null;
  }

  async idAndTimezone(
    appId: string,
    externalId: string,
  ): Promise<{ id: string; timezone: string | null } | null> {
    const [row] = await rows<{ id: string; timezone: string | null }>(
      this.q,
      'SELECT id, timezone FROM users WHERE app_id = $1 AND external_id = $2',
      [appId, externalId],
    );
    return row ?? null;
  }

  /** The app's name and the user's external id, when the user (internal id) still exists in the app. */
  async withAppName(appId: string, userId: string): Promise<{ appName: string; externalId: string } | null> {
    const [row] = await rows<{ name: string; external_id: string }>(
      this.q,
      'SELECT a.name, u.external_id FROM users u JOIN apps a ON a.id = u.app_id WHERE u.id = $1 AND u.app_id = $2',
      [userId, appId],
    );
    return row ? { appName: row.name, externalId: row.external_id } : null;
  }

  async profile(appId: string, externalId: string): Promise<UserProfile | null> {
    const [row] = await rows<UserProfile>(
      this.q,
      `SELECT id, external_id AS "userId", locale, timezone, attributes, created_at AS "createdAt", updated_at AS "updatedAt"
         FROM users WHERE app_id = $1 AND external_id = $2`,
      [appId, externalId],
    );
    return row ?? null;
  }

  async contacts(userId: string): Promise<StoredContact[]> {
    return rows<StoredContact>(
      this.q,
      `SELECT id, kind, platform, address, channel, disabled_at AS "disabledAt", disabled_reason AS "disabledReason"
         FROM contacts WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
  }

  async topics(userId: string): Promise<string[]> {
    const found = await rows<{ topic: string }>(
      this.q,
      'SELECT topic FROM topic_subscriptions WHERE user_id = $1 ORDER BY topic',
      [userId],
    );
    return found.map((t) => t.topic);
  }

  /**
   * Sets the user's one contact of a kind, or its one address on a plugin channel (`channel` set;
   * null removes it; the old one goes unless it is `value` as given); setting it again re-enables
   * it. E-mail addresses are stored lower-cased.
   */
  async replaceContact(
    appId: string,
    userId: string,
    kind: 'email' | 'phone' | 'url',
    value: string | null,
    channel: string | null = null,
  ): Promise<void> {
    await this.q.query(
      `DELETE FROM contacts WHERE user_id = $1 AND kind = $2 AND channel IS NOT DISTINCT FROM $4
         AND ($3::text IS NULL OR address <> $3)`,
      [userId, kind, value, channel],
    );
    if (value !== null) {
      await this.q.query(
        `INSERT INTO contacts (id, app_id, user_id, kind, address, channel) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, kind, channel, address) WHERE kind <> 'device' DO UPDATE SET disabled_at = NULL, disabled_reason = NULL, updated_at = now()`,
        [newId(), appId, userId, kind, kind === 'email' ? value.toLowerCase() : value, channel],
      );
    }
  }

  /**
   * Stores a device (one row per app and address, re-enabled when registered again). A device of
   * another user moves only if `takeOver`; null then otherwise.
   */
  async upsertDevice(
    appId: string,
    userId: string,
    device: DeviceWrite,
    takeOver: boolean,
  ): Promise<{ id: string; created: boolean } | null> {
    const [row] = await rows<{ id: string; created: boolean }>(
      this.q,
      `INSERT INTO contacts (id, app_id, user_id, kind, platform, address, subscription)
       VALUES ($1, $2, $3, 'device', $4, $5, $6)
       ON CONFLICT (app_id, address) WHERE kind = 'device' DO UPDATE SET
         user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, subscription = EXCLUDED.subscription,
         disabled_at = NULL, disabled_reason = NULL, updated_at = now()
       WHERE $7 OR contacts.user_id = EXCLUDED.user_id
       RETURNING id, (xmax = 0) AS created`,
      [newId(), appId, userId, device.platform, device.address, device.subscription, takeOver],
    );
    return row ?? null;
  }

  async removeDevice(appId: string, externalId: string, deviceId: string): Promise<boolean> {
    const deleted = await rows(
      this.q,
      `DELETE FROM contacts c USING users u WHERE c.id = $3 AND c.kind = 'device' AND c.user_id = u.id
         AND u.app_id = $1 AND u.external_id = $2 RETURNING c.id`,
      [appId, externalId, deviceId],
    );
    return deleted.length > 0;
  }

  /** Deletes the user; contacts, subscriptions and preferences go with it (cascade). */
  async delete(appId: string, externalId: string): Promise<boolean> {
    const deleted = await rows(
      this.q,
      'DELETE FROM users WHERE app_id = $1 AND external_id = $2 RETURNING id',
      [appId, externalId],
    );
    return deleted.length > 0;
  }

  async subscribe(appId: string, userId: string, topic: string): Promise<void> {
    await this.q.query(
      'INSERT INTO topic_subscriptions (app_id, topic, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [appId, topic, userId],
    );
  }

  async unsubscribe(appId: string, externalId: string, topic: string): Promise<boolean> {
    const deleted = await rows(
      this.q,
      `DELETE FROM topic_subscriptions t USING users u WHERE t.user_id = u.id AND u.app_id = $1 AND u.external_id = $2
         AND t.topic = $3 RETURNING t.user_id`,
      [appId, externalId, topic],
    );
    return deleted.length > 0;
  }

  /**
   * The users who stored `address` as a contact of this kind: on a core channel (`channel` null)
   * their phone or e-mail, on a plugin's channel the address kept for it. An inbound STOP/START
   * applies to everyone reachable at that address.
   */
  async reachableAt(kind: string, channel: string | null, address: string): Promise<UserRef[]> {
    const found = await rows<{ app_id: string; user_id: string }>(
      this.q,
      `SELECT DISTINCT app_id, user_id FROM contacts
        WHERE kind = $1 AND channel IS NOT DISTINCT FROM $2 AND address = $3`,
      [kind, channel, kind === 'email' ? address.toLowerCase() : address],
    );
    return found.map((r) => ({ appId: r.app_id, userId: r.user_id }));
  }

  async recipients(
    pairs: { appId: string; externalId: string }[],
  ): Promise<(Recipient & { appId: string })[]> {
    const found = await preparedQuery<RecipientRow>(
      this.q,
      `${RECIPIENT} JOIN unnest($1::uuid[], $2::text[]) AS want(app_id, external_id)
         ON u.app_id = want.app_id AND u.external_id = want.external_id`,
      [pairs.map((p) => p.appId), pairs.map((p) => p.externalId)],
    );
    return found.map(toRecipient);
  }

  async topicPage(
    appId: string,
    topic: string,
    afterUserId: string | null,
    limit: number,
  ): Promise<Recipient[]> {
    const found = await rows<RecipientRow>(this.q, TOPIC_PAGE_SQL, [appId, topic, afterUserId, limit]);
    return found.map((r) => {
      const { appId: _app, ...recipient } = toRecipient(r);
      return recipient;
    });
  }

  /** The dev-mode demo user with an e-mail, a phone and a webhook URL (kept if it exists). */
  async seedDemoUser(appId: string, webhookUrl: string): Promise<void> {
    await this.q.query(
      `INSERT INTO users (id, app_id, external_id, locale) VALUES (gen_random_uuid(), $1, 'demo', 'en') ON CONFLICT DO NOTHING`,
      [appId],
    );
    await this.q.query(
      `INSERT INTO contacts (id, app_id, user_id, kind, address)
       SELECT gen_random_uuid(), u.app_id, u.id, k.kind, k.address FROM users u,
         (VALUES ('email', 'demo@example.com'), ('phone', '+15555550100'), ('url', $2)) AS k(kind, address)
       WHERE u.app_id = $1 AND u.external_id = 'demo' ON CONFLICT DO NOTHING`,
      [appId, webhookUrl],
    );
  }
}
