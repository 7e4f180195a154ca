import { z } from 'zod';
import { named, nullableTimestamp, type RouteContract, timestamp, uuid } from '../contract/route-contract';
import { registerDeviceSchema, topicParam, upsertUserSchema, userIdParam } from './user-schemas';

const disabledState = {
  disabled: z
    .boolean()
    .meta({ description: 'A provider declared it dead; deliveries skip it until it is set again' }),
  disabledReason: z.string().nullable(),
  disabledAt: nullableTimestamp,
};

export const userSchema = named(
  'User',
  z
    .object({
      userId: z.string(),
      locale: z.string().nullable(),
      timezone: z.string().nullable(),
      attributes: z.record(z.string(), z.unknown()),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      webhookUrl: z.string().nullable(),
      addresses: z
        .record(z.string(), z.string())
        .meta({ description: 'Addresses on the channels loaded plugins add, by channel (e.g. `slack`)' }),
      createdAt: timestamp,
      updatedAt: timestamp,
      contacts: z.array(
        z.object({
          field: z.string().meta({ description: '`email`, `phone`, `webhookUrl` or `addresses.<channel>`' }),
          channel: z.string().optional().meta({ description: 'For an address on a plugin channel' }),
          address: z.string(),
          ...disabledState,
        }),
      ),
      devices: z.array(
        z.object({
          id: uuid,
          platform: z.string().nullable(),
          token: z.string().meta({ description: 'The last 8 characters only' }),
          ...disabledState,
        }),
      ),
      topics: z.array(z.string()),
    })
    .meta({
      examples: [
        {
          userId: 'alice',
          locale: 'pt-BR',
          timezone: 'Europe/Lisbon',
          attributes: { plan: 'pro' },
          email: 'alice@example.com',
          phone: null,
          webhookUrl: null,
          addresses: {},
          createdAt: '2026-01-02T03:04:05.000Z',
          updatedAt: '2026-01-02T03:04:05.000Z',
          contacts: [
            {
              field: 'email',
              address: 'alice@example.com',
              disabled: false,
              disabledReason: null,
              disabledAt: null,
            },
          ],
          devices: [],
          topics: ['news'],
        },
      ],
    }),
);

const userParams = z.object({ userId: userIdParam });
const deviceParams = z.object({ userId: userIdParam, deviceId: uuid });
const topicParams = z.object({ userId: userIdParam, topic: topicParam });
const deviceRegistered = z
  .object({ id: uuid, platform: z.enum(['ios', 'android', 'web']) })
  .meta({ examples: [{ id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e71', platform: 'ios' }] });

/** Users, their contacts, devices and topics. */
export const usersRoutes: RouteContract[] = [
  {
    method: 'put',
    path: '/v1/users/{userId}',
    summary: 'Create or update a user and their e-mail/phone (a client key: its own user, no contacts)',
    auth: 'app',
    params: userParams,
    body: named('UpsertUser', upsertUserSchema),
    bodyRequired: false,
    bodyExample: {
      locale: 'pt-BR',
      timezone: 'Europe/Lisbon',
      email: 'alice@example.com',
      phone: '+351912345678',
      attributes: { plan: 'pro', name: 'Alice' },
    },
    answers: {
      201: { description: 'Created: the user', body: userSchema },
      200: { description: 'Updated: the user', body: userSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/users/{userId}',
    summary: 'A user with contacts and topics',
    description:
      '`contacts` lists the e-mail, phone and webhook contacts (`{field, address, disabled, disabledReason, disabledAt}`), `devices` the devices with the same state: a contact a provider declared dead (`invalid_address`, a bounce) is skipped until it is set again.',
    auth: 'app',
    params: userParams,
    answers: { 200: { description: 'The user', body: userSchema } },
  },
  {
    method: 'delete',
    path: '/v1/users/{userId}',
    summary: 'Erase a user and all their contacts',
    auth: 'app',
    params: userParams,
    answers: { 204: { description: 'Erased' } },
  },
  {
    method: 'post',
    path: '/v1/users/{userId}/devices',
    summary: 'Register a device (idempotent; a server key moves a known token to this user)',
    auth: 'app',
    params: userParams,
    body: named('RegisterDevice', registerDeviceSchema),
    bodyExample: {
      platform: 'ios',
      token: '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad',
    },
    answers: {
      201: { description: 'Registered', body: deviceRegistered },
      200: { description: 'Already known (moved/re-enabled)', body: deviceRegistered },
    },
    errors: {
      409: '`device_taken`: a client key may not move another user’s device; `idempotency_key_reused`, `idempotency_key_in_progress`',
    },
  },
  {
    method: 'delete',
    path: '/v1/users/{userId}/devices/{deviceId}',
    summary: 'Remove a device',
    auth: 'app',
    params: deviceParams,
    answers: { 204: { description: 'Removed' } },
  },
  {
    method: 'put',
    path: '/v1/users/{userId}/topics/{topic}',
    summary: 'Subscribe to a topic',
    auth: 'app',
    params: topicParams,
    answers: { 204: { description: 'Subscribed' } },
  },
  {
    method: 'delete',
    path: '/v1/users/{userId}/topics/{topic}',
    summary: 'Unsubscribe from a topic',
    auth: 'app',
    params: topicParams,
    answers: { 204: { description: 'Unsubscribed' } },
  },
];
