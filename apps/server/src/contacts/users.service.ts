import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiError, badRequest } from '../common/api-error';
import { JSON_LIMITS } from '../common/free-json';
import { newId } from '../common/ids';
import { rows } from '../database/rows';
import type { ChannelAddress } from './channel-addresses';
import type { RegisterDevice, UpsertUser } from './user-schemas';

type Tx = EntityManager;

/** A user's attributes as stored (jsonb's text form, a little wider than compact JSON), merged over all calls. */
const STORED_ATTRIBUTES_BYTES = 2 * JSON_LIMITS.attributes;

/** Users and the contacts collected at install or sign-up. Every write is idempotent. */
/** The user field each stored contact kind is set through (`PUT /v1/users/:id`). */
const FIELD_OF_KIND: Record<string, string> = { email: 'email', phone: 'phone', url: 'webhookUrl' };

@Injectable()
export class UsersService {
  constructor(private readonly db: DataSource) {}

  /** Creates or updates; null clears a field; an absent field is left alone. */
  /** `created`: the user did not exist before (PUT answers 201 then, 200 for an update). */
  async upsert(
    appId: string,
    externalId: string,
    input: UpsertUser,
    addresses: ChannelAddress[] = [],
  ): Promise<{ id: string; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const user = await this.ensureUserRow(tx, appId, externalId, input);
      await this.setContact(tx, appId, user.id, 'email', input.email);
      await this.setContact(tx, appId, user.id, 'phone', input.phone);
      await this.setContact(tx, appId, user.id, 'url', input.webhookUrl);
      for (const a of addresses) await this.setContact(tx, appId, user.id, a.kind, a.address, a.channel);
      return user;
    });
  }

  private async ensureUser(
    tx: Tx,
    appId: string,
    externalId: string,
    input: Partial<UpsertUser> = {},
  ): Promise<string> {
    return (await this.ensureUserRow(tx, appId, externalId, input)).id;
  }

  private async ensureUserRow(
    tx: Tx,
    appId: string,
    externalId: string,
    input: Partial<UpsertUser> = {},
  ): Promise<{ id: string; created: boolean }> {
    const rows: { id: string; created: boolean; bytes: number }[] = await tx.query(
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
    // Each call is bounded by validation; merged over many calls the attributes are bounded here
    // (the throw rolls the transaction back, so nothing of this call is stored).
    if (input.attributes && rows[0]!.bytes > STORED_ATTRIBUTES_BYTES)
      throw badRequest(
        `invalid body: attributes: ${rows[0]!.bytes} bytes once merged with the stored ones, over the ${STORED_ATTRIBUTES_BYTES}-byte limit`,
        [{ path: 'body.attributes', message: `over ${STORED_ATTRIBUTES_BYTES} bytes once merged` }],
      );
    return { id: rows[0]!.id, created: rows[0]!.created };
  }

  /**
   * One e-mail / phone / URL per user, and one address per plugin channel (`channel` set):
   * replacing it removes the old one; setting it again re-enables it.
   */
  private async setContact(
    tx: Tx,
    appId: string,
    userId: string,
    kind: 'email' | 'phone' | 'url',
    value: string | null | undefined,
    channel: string | null = null,
  ) {
    if (value === undefined) return;
    await tx.query(
      `DELETE FROM contacts WHERE user_id = $1 AND kind = $2 AND channel IS NOT DISTINCT FROM $4
         AND ($3::text IS NULL OR address <> $3)`,
      [userId, kind, value, channel],
    );
    if (value !== null) {
      await tx.query(
        `INSERT INTO contacts (id, app_id, user_id, kind, address, channel) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, kind, channel, address) WHERE kind <> 'device' DO UPDATE SET disabled_at = NULL, disabled_reason = NULL, updated_at = now()`,
        [newId(), appId, userId, kind, kind === 'email' ? value.toLowerCase() : value, channel],
      );
    }
  }

  /**
   * Registers a device. The same token (or Web Push endpoint) registered again is one row,
   * re-enabled; registered by another user of the app it moves to the caller only if
   * `takeOver` (server keys), else nothing changes (not even a new user) and the answer is 409.
   */
  async registerDevice(
    appId: string,
    externalId: string,
    device: RegisterDevice,
    takeOver: boolean,
  ): Promise<{ id: string; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const userId = await this.ensureUser(tx, appId, externalId);
      const address = device.platform === 'web' ? device.subscription.endpoint : device.token;
      const subscription = device.platform === 'web' ? JSON.stringify(device.subscription) : null;
      const rows: { id: string; created: boolean }[] = await tx.query(
        `INSERT INTO contacts (id, app_id, user_id, kind, platform, address, subscription)
         VALUES ($1, $2, $3, 'device', $4, $5, $6)
         ON CONFLICT (app_id, address) WHERE kind = 'device' DO UPDATE SET
           user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, subscription = EXCLUDED.subscription,
           disabled_at = NULL, disabled_reason = NULL, updated_at = now()
         WHERE $7 OR contacts.user_id = EXCLUDED.user_id
         RETURNING id, (xmax = 0) AS created`,
        [newId(), appId, userId, device.platform, address, subscription, takeOver],
      );
      if (!rows[0])
        throw new ApiError(
          409,
          'device_taken',
          'this device is registered to another user; a server key can move it',
        );
      return rows[0];
    });
  }

  async removeDevice(appId: string, externalId: string, deviceId: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      `DELETE FROM contacts c USING users u WHERE c.id = $3 AND c.kind = 'device' AND c.user_id = u.id
         AND u.app_id = $1 AND u.external_id = $2 RETURNING c.id`,
      [appId, externalId, deviceId],
    );
    return deleted.length > 0;
  }

  async get(appId: string, externalId: string) {
    const [user] = await this.db.query(
      `SELECT id, external_id AS "userId", locale, timezone, attributes, created_at AS "createdAt", updated_at AS "updatedAt"
         FROM users WHERE app_id = $1 AND external_id = $2`,
      [appId, externalId],
    );
    if (!user) return null;
    const contacts: {
      id: string;
      kind: string;
      platform: string | null;
      address: string;
      channel: string | null;
      disabled_at: Date | null;
      disabled_reason: string | null;
    }[] = await this.db.query(
      'SELECT id, kind, platform, address, channel, disabled_at, disabled_reason FROM contacts WHERE user_id = $1 ORDER BY created_at',
      [user.id],
    );
    const topics: { topic: string }[] = await this.db.query(
      'SELECT topic FROM topic_subscriptions WHERE user_id = $1 ORDER BY topic',
      [user.id],
    );
    const one = (kind: string) =>
      contacts.find((c) => c.kind === kind && c.channel === null)?.address ?? null;
    const onChannels = contacts.filter((c) => c.channel !== null);
    // A provider may have disabled a contact (invalid_address, a STOP): deliveries skip it until it is set again.
    const state = (c: (typeof contacts)[number]) => ({
      disabled: c.disabled_at !== null,
      disabledReason: c.disabled_reason,
      disabledAt: c.disabled_at?.toISOString() ?? null,
    });
    const { id: _internal, ...rest } = user;
    return {
      ...rest,
      email: one('email'),
      phone: one('phone'),
      webhookUrl: one('url'),
      // Addresses on the channels plugins add (`addresses.slack`), by channel.
      addresses: Object.fromEntries(onChannels.map((c) => [c.channel, c.address])),
      contacts: contacts
        .filter((c) => c.kind !== 'device')
        .map((c) => ({
          field: c.channel !== null ? `addresses.${c.channel}` : (FIELD_OF_KIND[c.kind] ?? c.kind),
          ...(c.channel !== null ? { channel: c.channel } : {}),
          address: c.address,
          ...state(c),
        })),
      devices: contacts
        .filter((c) => c.kind === 'device')
        .map((c) => ({
          id: c.id,
          platform: c.platform,
          // Tokens are credentials of a sort: show only their tail.
          token: `…${c.address.slice(-8)}`,
          ...state(c),
        })),
      topics: topics.map((t) => t.topic),
    };
  }

  /** Erases the user and every contact and subscription (cascade). Delivery history keeps no address. */
  async delete(appId: string, externalId: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      'DELETE FROM users WHERE app_id = $1 AND external_id = $2 RETURNING id',
      [appId, externalId],
    );
    return deleted.length > 0;
  }

  async subscribe(appId: string, externalId: string, topic: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const userId = await this.ensureUser(tx, appId, externalId);
      await tx.query(
        'INSERT INTO topic_subscriptions (app_id, topic, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [appId, topic, userId],
      );
    });
  }

  async unsubscribe(appId: string, externalId: string, topic: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      `DELETE FROM topic_subscriptions t USING users u WHERE t.user_id = u.id AND u.app_id = $1 AND u.external_id = $2
         AND t.topic = $3 RETURNING t.user_id`,
      [appId, externalId, topic],
    );
    return deleted.length > 0;
  }
}
