import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { QuietHours } from '../contacts/quiet-hours';
import type { Queryable } from '../database/prepared';
import type { RepositoryShape } from '../database/repository-shape';
import { rows } from '../database/rows';

export interface OptOut {
  appId: string;
  /** Internal user id (users.id). */
  userId: string;
  /** A channel, or `*` for every channel. */
  channel: string;
  /** A category, or `*` for every category. */
  category: string;
  /** Who said so: `api`, `unsubscribe_link`, `sms_stop`, `spam_report`, … (kept for support). */
  source: string;
}

export interface StoredRule {
  channel: string;
  category: string;
  enabled: boolean;
  source: string;
  updatedAt: string;
}

/**
 * Records that a user does not want `channel` (for `category`): the one write path shared by
 * the preferences API, the e-mail unsubscribe link, SMS STOP replies and provider callbacks.
 * Idempotent: repeating it changes nothing but the timestamp. A function as well as a method so a
 * writer can run it inside its own transaction.
 */
export async function optOut(db: Queryable, o: OptOut): Promise<void> {
  await db.query(
    `INSERT INTO user_preferences (app_id, user_id, channel, category, enabled, source)
     VALUES ($1, $2, $3, $4, false, $5)
     ON CONFLICT (user_id, channel, category) DO UPDATE SET enabled = false, source = EXCLUDED.source, updated_at = now()`,
    [o.appId, o.userId, o.channel, o.category, o.source],
  );
}

/**
 * Takes back the opt-outs that `source` recorded for this user and channel (an SMS START after a
 * STOP): opt-outs the user or the app set another way stay.
 */
export async function withdrawOptOut(
  db: Queryable,
  o: { userId: string; channel: string; source: string },
): Promise<void> {
  await db.query(
    `DELETE FROM user_preferences WHERE user_id = $1 AND channel = $2 AND source = $3 AND enabled = false`,
    [o.userId, o.channel, o.source],
  );
}

/** Users' preference rules and quiet hours in PostgreSQL. Every write is idempotent. */
@Injectable()
export class PreferenceRepository {
  private q: DataSource | EntityManager;

  constructor(db: DataSource) {
    this.q = db;
  }

  /** A repository bound to one transaction: a refused request changes nothing. */
  transaction<T>(fn: (prefs: RepositoryShape<PreferenceRepository>) => Promise<T>): Promise<T> {
    return this.q.transaction(async (tx) => {
      const bound = Object.create(PreferenceRepository.prototype) as PreferenceRepository;
      bound.q = tx;
      return fn(bound);
    });
  }

  /** The user whose preferences these are, with the time zone quiet hours follow; null: no such user. */
  async owner(appId: string, externalId: string): Promise<{ id: string; timezone: string | null } | null> {
    const [row] = await rows<{ id: string; timezone: string | null }>(
      this.q,
      'SELECT id, timezone FROM users WHERE app_id = $1 AND external_id = $2',
      [appId, externalId],
    );
    return row ?? null;
  }

  /** Locks the user's row for the rest of the transaction (concurrent writes queue); null: no such user. */
  async lockOwner(appId: string, externalId: string): Promise<string | null> {
    const [row] = await rows<{ id: string }>(
      this.q,
      'SELECT id FROM users WHERE app_id = $1 AND external_id = $2 FOR UPDATE',
      [appId, externalId],
    );
    return row?.id ?? null;
  }

  async rules(userId: string): Promise<StoredRule[]> {
    const found = await rows<Omit<StoredRule, 'updatedAt'> & { updatedAt: Date }>(
      this.q,
      `SELECT channel, category, enabled, source, updated_at AS "updatedAt" FROM user_preferences
        WHERE user_id = $1 ORDER BY channel, category`,
      [userId],
    );
    return found.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() }));
  }

  async quietHours(userId: string): Promise<QuietHours | null> {
    const [row] = await rows<QuietHours>(
      this.q,
      'SELECT start_time AS start, end_time AS "end", categories FROM user_quiet_hours WHERE user_id = $1',
      [userId],
    );
    return row ?? null;
  }

  optOut(o: OptOut): Promise<void> {
    return optOut(this.q, o);
  }

  withdrawOptOut(o: { userId: string; channel: string; source: string }): Promise<void> {
    return withdrawOptOut(this.q, o);
  }

  /** The user turns `channel` (for `category`) on: the mirror of `optOut`, same row, same key. */
  async optIn(o: OptOut): Promise<void> {
    await this.q.query(
      `INSERT INTO user_preferences (app_id, user_id, channel, category, enabled, source)
       VALUES ($1, $2, $3, $4, true, $5)
       ON CONFLICT (user_id, channel, category) DO UPDATE SET enabled = true, source = EXCLUDED.source, updated_at = now()`,
      [o.appId, o.userId, o.channel, o.category, o.source],
    );
  }

  /** Forgets a rule: the next more general rule, or the app's default, applies again. */
  async clear(userId: string, channel: string, category: string): Promise<void> {
    await this.q.query('DELETE FROM user_preferences WHERE user_id = $1 AND channel = $2 AND category = $3', [
      userId,
      channel,
      category,
    ]);
  }

  /** Sets (or with null, removes) the user's quiet window. */
  async setQuietHours(appId: string, userId: string, qh: QuietHours | null): Promise<void> {
    if (qh === null) {
      await this.q.query('DELETE FROM user_quiet_hours WHERE user_id = $1', [userId]);
      return;
    }
    await this.q.query(
      `INSERT INTO user_quiet_hours (user_id, app_id, start_time, end_time, categories) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id) DO UPDATE SET start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
         categories = EXCLUDED.categories, updated_at = now()`,
      [userId, appId, qh.start, qh.end, qh.categories],
    );
  }
}
