import { Injectable } from '@nestjs/common';
import { ConflictError, InvalidInputError } from '../common/errors/domain-error';
import { JSON_LIMITS } from '../common/free-json';
import type { ChannelAddress } from './channel-addresses';
import { type StoredContact, UserRepository } from './user-repository';
import type { RegisterDevice, UpsertUser } from './user-schemas';

/** A user's attributes as stored (jsonb's text form, a little wider than compact JSON), merged over all calls. */
const STORED_ATTRIBUTES_BYTES = 2 * JSON_LIMITS.attributes;

/** The user field each stored contact kind is set through (`PUT /v1/users/:id`). */
const FIELD_OF_KIND: Record<string, string> = { email: 'email', phone: 'phone', url: 'webhookUrl' };

/** Users and the contacts collected at install or sign-up. Every write is idempotent. */
@Injectable()
export class UsersService {
  constructor(private readonly users: UserRepository) {}

  /**
   * Creates or updates; null clears a field; an absent field is left alone. `created`: the user
   * did not exist before (PUT answers 201 then, 200 for an update).
   */
  async upsert(
    appId: string,
    externalId: string,
    input: UpsertUser,
    addresses: ChannelAddress[] = [],
  ): Promise<{ id: string; created: boolean }> {
    return this.users.transaction(async (tx) => {
      const user = await this.ensureUserRow(tx, appId, externalId, input);
      await this.setContact(tx, appId, user.id, 'email', input.email);
      await this.setContact(tx, appId, user.id, 'phone', input.phone);
      await this.setContact(tx, appId, user.id, 'url', input.webhookUrl);
      for (const a of addresses) await this.setContact(tx, appId, user.id, a.kind, a.address, a.channel);
      return user;
    });
  }

  private async ensureUser(
    tx: UserRepository,
    appId: string,
    externalId: string,
    input: Partial<UpsertUser> = {},
  ): Promise<string> {
    return (await this.ensureUserRow(tx, appId, externalId, input)).id;
  }

  private async ensureUserRow(
    tx: UserRepository,
    appId: string,
    externalId: string,
    input: Partial<UpsertUser> = {},
  ): Promise<{ id: string; created: boolean }> {
    const row = await tx.ensure(appId, externalId, input);
    // Each call is bounded by validation; merged over many calls the attributes are bounded here
    // (the throw rolls the transaction back, so nothing of this call is stored).
    if (input.attributes && row.attributeBytes > STORED_ATTRIBUTES_BYTES)
      throw new InvalidInputError(
        `invalid body: attributes: ${row.attributeBytes} bytes once merged with the stored ones, over the ${STORED_ATTRIBUTES_BYTES}-byte limit`,
        [{ path: 'body.attributes', message: `over ${STORED_ATTRIBUTES_BYTES} bytes once merged` }],
      );
    return { id: row.id, created: row.created };
  }

  /**
   * One e-mail / phone / URL per user, and one address per plugin channel (`channel` set):
   * replacing it removes the old one; setting it again re-enables it.
   */
  private async setContact(
    tx: UserRepository,
    appId: string,
    userId: string,
    kind: 'email' | 'phone' | 'url',
    value: string | null | undefined,
    channel: string | null = null,
  ) {
    if (value === undefined) return;
    await tx.replaceContact(appId, userId, kind, value, channel);
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
    return this.users.transaction(async (tx) => {
      const userId = await this.ensureUser(tx, appId, externalId);
      const address = device.platform === 'web' ? device.subscription.endpoint : device.token;
      const subscription = device.platform === 'web' ? JSON.stringify(device.subscription) : null;
      const stored = await tx.upsertDevice(
        appId,
        userId,
        { platform: device.platform, address, subscription },
        takeOver,
      );
      if (!stored)
        throw new ConflictError(
          'device_taken',
          'this device is registered to another user; a server key can move it',
        );
      return stored;
    });
  }

  async removeDevice(appId: string, externalId: string, deviceId: string): Promise<boolean> {
    return this.users.removeDevice(appId, externalId, deviceId);
  }

  async get(appId: string, externalId: string) {
    const user = await this.users.profile(appId, externalId);
    if (!user) return null;
    const contacts = await this.users.contacts(user.id);
    const topics = await this.users.topics(user.id);
    const one = (kind: string) =>
      contacts.find((c) => c.kind === kind && c.channel === null)?.address ?? null;
    const onChannels = contacts.filter((c) => c.channel !== null);
    // A provider may have disabled a contact (invalid_address, a STOP): deliveries skip it until it is set again.
    const state = (c: StoredContact) => ({
      disabled: c.disabledAt !== null,
      disabledReason: c.disabledReason,
      disabledAt: c.disabledAt?.toISOString() ?? null,
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
      topics,
    };
  }

  /** Erases the user and every contact and subscription (cascade). Delivery history keeps no address. */
  async delete(appId: string, externalId: string): Promise<boolean> {
    return this.users.delete(appId, externalId);
  }

  async subscribe(appId: string, externalId: string, topic: string): Promise<void> {
    await this.users.transaction(async (tx) => {
      const userId = await this.ensureUser(tx, appId, externalId);
      await tx.subscribe(appId, userId, topic);
    });
  }

  async unsubscribe(appId: string, externalId: string, topic: string): Promise<boolean> {
    return this.users.unsubscribe(appId, externalId, topic);
  }
}
