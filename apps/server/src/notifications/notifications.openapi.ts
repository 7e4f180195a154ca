import { z } from 'zod';
import {
  errorSchema,
  named,
  nullableTimestamp,
  type RouteContract,
  timestamp,
  uuid,
} from '../contract/route-contract';
import { notificationRequestSchema } from '../templates/notification-request';
import { BATCH_MAX_ITEMS } from './batch-request';
import { listQuery } from './notifications.controller';

const NOTIFICATION_STATES = ['accepted', 'scheduled', 'fanout', 'digested', 'duplicate'] as const;
const DELIVERY_STATUSES =
  'pending, queued, sent, delivered, opened, clicked, failed, suppressed, expired or canceled';

/** The validating schema with examples for the document (a copy: the controller's stays as it is). */
const notificationRequest = named(
  'NotificationRequest',
  notificationRequestSchema.meta({
    examples: [
      {
        to: { userId: 'alice' },
        category: 'orders',
        eventId: 'order-1042-shipped',
        content: { push: { title: 'Shipped', body: 'Order 1042 is on its way' } },
      },
      { to: { topic: 'news' }, template: 'weekly-digest', data: { week: 49 } },
      {
        to: { userId: 'alice' },
        template: 'new-comments',
        data: { author: 'bob', text: 'Nice!' },
        digest: { key: 'comments', window: '15m' },
      },
      {
        to: { userId: 'alice' },
        template: 'login-code',
        steps: [{ channel: 'push' }, { channel: 'sms', after: '10m', unless: ['opened', 'clicked'] }],
      },
    ],
  }),
);

/** Where a request that joined a digest went. */
const digestJoined = z
  .object({
    id: uuid,
    closesAt: z.iso.datetime().meta({ description: 'When its one message goes out (the window’s end)' }),
  })
  .meta({ description: 'The digest this notification joined (status `digested`)' });

export const notificationAccepted = named(
  'NotificationAccepted',
  z
    .object({
      id: uuid,
      status: z.enum(NOTIFICATION_STATES).meta({
        description:
          '`accepted`: stored with its deliveries planned; `scheduled`: stored for sendAt; `fanout`: a topic or a large list, expanded in the background (no counts yet); `digested`: joined its user’s open digest, sent as one message when the digest closes; `duplicate`: a repeat of an eventId',
      }),
      duplicate: z
        .boolean()
        .optional()
        .meta({ description: 'A repeat of an eventId: nothing was sent again' }),
      deliveries: z.int().optional().meta({ description: 'Deliveries queued (not for fanout)' }),
      suppressed: z
        .int()
        .optional()
        .meta({ description: 'Deliveries not sent (preferences, opt-outs, caps…; not for fanout)' }),
      digest: digestJoined.optional(),
    })
    .meta({
      examples: [
        { id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f', status: 'accepted', deliveries: 2, suppressed: 0 },
        { id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e70', status: 'fanout' },
        { id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f', status: 'duplicate', duplicate: true },
        {
          id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e71',
          status: 'digested',
          digest: { id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e72', closesAt: '2026-01-02T03:19:05.000Z' },
        },
      ],
    }),
);

/** One step of a delivery's history. */
export const deliveryEvent = named(
  'DeliveryEvent',
  z.object({
    status: z.string(),
    at: timestamp,
    attempt: z.int().nullable(),
    provider: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    retryable: z.boolean().nullable(),
    reason: z.string().nullable(),
    source: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  }),
);

const notificationDelivery = named(
  'NotificationDelivery',
  z.object({
    id: uuid,
    userId: z.string().nullable(),
    channel: z.string(),
    plugin: z
      .string()
      .nullable()
      .meta({ description: 'Null when no plugin serves the channel (suppressed)' }),
    status: z.string().meta({ description: DELIVERY_STATUSES }),
    reason: z.string().nullable(),
    attempts: z.int(),
    providerMessageId: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    heldUntil: nullableTimestamp,
    createdAt: timestamp,
    updatedAt: timestamp,
    events: z.array(deliveryEvent),
  }),
);

/** One later step of an escalating notification for one user. */
const notificationStep = named(
  'NotificationStep',
  z.object({
    userId: z.string(),
    step: z.int().meta({ description: 'Its index in the request’s `steps` (1 is the second step)' }),
    channel: z.string(),
    dueAt: timestamp,
    unless: z.array(z.string()),
    status: z.enum(['waiting', 'planned', 'skipped', 'canceled']).meta({
      description:
        '`waiting` until dueAt; `planned`: its deliveries are written (see `deliveries`); `skipped`: the user engaged first (a suppressed delivery, reason `engaged`); `canceled` with the notification',
    }),
    settledAt: nullableTimestamp,
  }),
);

const EXAMPLE_ID = '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f';
const NOTIFICATION_EXAMPLE = {
  id: EXAMPLE_ID,
  eventId: 'order-1042-shipped',
  status: 'accepted',
  category: 'orders',
  priority: 'normal',
  sendAt: null,
  expiresAt: null,
  recipients: { userId: 'alice' },
  createdAt: '2026-01-02T03:04:05.000Z',
  canceledAt: null,
  template: null,
  summary: { delivered: 1 },
  steps: [],
  deliveries: [
    {
      id: '0193a1c2-7b8f-7c3d-9f00-1a2b3c4d5e6f',
      userId: 'alice',
      channel: 'push',
      plugin: 'fcm',
      status: 'delivered',
      reason: null,
      attempts: 1,
      providerMessageId: 'projects/shop/messages/0:1700000000',
      errorCode: null,
      errorMessage: null,
      heldUntil: null,
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:06.000Z',
      events: [
        {
          status: 'sent',
          at: '2026-01-02T03:04:05.500Z',
          attempt: 1,
          provider: 'fcm',
          providerMessageId: 'projects/shop/messages/0:1700000000',
          errorCode: null,
          errorMessage: null,
          retryable: null,
          reason: null,
          source: null,
          detail: null,
        },
      ],
    },
  ],
  nextCursor: null,
};

const notification = named(
  'Notification',
  z
    .object({
      id: uuid,
      eventId: z.string().nullable(),
      status: z.string().meta({ description: 'accepted, scheduled, fanout, digested, canceled…' }),
      category: z.string().nullable(),
      priority: z.string(),
      sendAt: nullableTimestamp,
      expiresAt: nullableTimestamp,
      recipients: z.unknown(),
      createdAt: timestamp,
      canceledAt: nullableTimestamp,
      template: z.object({ key: z.string(), version: z.int().nullable() }).nullable(),
      summary: z.record(z.string(), z.int()).meta({ description: 'Deliveries per status' }),
      steps: z.array(notificationStep).meta({
        description:
          'The later steps of a notification sent with `steps` (empty otherwise; on the first page only)',
      }),
      deliveries: z.array(notificationDelivery),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as ?cursor= for the next page; null on the last' }),
    })
    .meta({ examples: [NOTIFICATION_EXAMPLE] }),
);

const batchBody = named(
  'NotificationBatch',
  z
    .object({
      notifications: z
        .array(notificationRequest)
        .min(1)
        .max(BATCH_MAX_ITEMS)
        .meta({ description: `1 to ${BATCH_MAX_ITEMS} bodies of POST /v1/notifications` }),
    })
    .strict(),
);

const batchResults = named(
  'NotificationBatchResults',
  z
    .object({
      results: z.array(
        z.union([
          z.object({
            status: z.union([z.literal(202), z.literal(200)]),
            id: uuid,
            state: z.enum(NOTIFICATION_STATES),
            duplicate: z.boolean().optional(),
            deliveries: z.int().optional(),
            suppressed: z.int().optional(),
            digest: digestJoined.optional(),
          }),
          z.object({ status: z.int().min(400).max(599), error: errorSchema.shape.error }),
        ]),
      ),
    })
    .meta({
      examples: [
        {
          results: [
            {
              status: 202,
              id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f',
              state: 'accepted',
              deliveries: 2,
              suppressed: 0,
            },
            {
              status: 200,
              id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e70',
              state: 'duplicate',
              duplicate: true,
            },
            {
              status: 400,
              error: {
                code: 'invalid_request',
                message: 'invalid body: body.to: Invalid input: expected object, received undefined',
                details: [{ path: 'body.to', message: 'Invalid input: expected object, received undefined' }],
              },
            },
          ],
        },
      ],
    }),
);

const cancelResult = z
  .object({
    id: uuid,
    status: z.literal('canceled'),
    canceled: z.int().meta({ description: 'Deliveries canceled now' }),
    inFlight: z
      .int()
      .meta({ description: 'Deliveries a worker had already started: they finish this attempt' }),
    steps: z
      .int()
      .meta({ description: 'Escalation steps still waiting (per step × user), now never planned' }),
  })
  .meta({
    examples: [
      { id: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f', status: 'canceled', canceled: 3, inFlight: 0, steps: 1 },
    ],
  });

const idParam = z.object({ id: uuid });

/** The notifications API: sending, reading and canceling. */
export const notificationsRoutes: RouteContract[] = [
  {
    method: 'post',
    path: '/v1/notifications',
    summary: 'Send a notification to a user, a list of users or a topic',
    auth: 'app',
    body: notificationRequest,
    answers: {
      202: {
        description:
          'Accepted and durable: `{id, status: "accepted", deliveries, suppressed}`, `{id, status: "scheduled", …}`, `{id, status: "fanout"}` (a topic or a large list, expanded in the background: no counts yet), or `{id, status: "digested", digest: {id, closesAt}}` (joined the user’s open digest: one message when it closes, docs/digest.md)',
        body: notificationAccepted,
      },
      200: {
        description: 'Repeat of an eventId: the first notification id, nothing sent again',
        body: notificationAccepted,
      },
    },
    errors: {
      409: '`event_id_conflict`: eventId reused with a different body; `idempotency_key_reused`, `idempotency_key_in_progress`',
      422: '`template_error`: a template could not be rendered (names the variable); `content_too_large`: content renders past its channel limit (names the field); `unverified_sender`: `from` is not in the app’s `senders`; `unknown_template`: no such template (or archived); `template_too_complex`: over the Liquid limits',
      429: '`rate_limited`: over this key’s API quota, or a client key’s daily SMS budget for its user spent (see Retry-After)',
    },
  },
  {
    method: 'post',
    path: '/v1/notifications/batch',
    summary:
      'Send up to 1,000 notifications in one request (server keys only); each item is handled as its own POST /v1/notifications',
    auth: 'app',
    body: batchBody,
    bodyExample: {
      notifications: [
        {
          to: { userId: 'alice' },
          category: 'orders',
          eventId: 'order-1042-shipped',
          template: 'order-shipped',
          data: { order: { id: 1042 } },
        },
        {
          to: { userId: 'bob' },
          category: 'orders',
          eventId: 'order-1043-shipped',
          template: 'order-shipped',
          data: { order: { id: 1043 } },
        },
      ],
    },
    answers: {
      207: {
        description:
          'One result per item, in request order: `202` accepted (stored), `200` a repeated eventId, `409` an eventId reused with another body, `400` an invalid item, `422` a template or content refused, `429` over the API quota (each item counts as one request). A failed item stored nothing and does not affect the others',
        body: batchResults,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/notifications/{id}',
    summary: 'A notification with each delivery and its status history (paged: nextCursor → ?cursor=)',
    auth: 'app',
    params: idParam,
    query: listQuery,
    answers: { 200: { description: 'Found', body: notification } },
  },
  {
    method: 'post',
    path: '/v1/notifications/{id}/cancel',
    summary:
      'Cancel what a notification has not sent yet (a scheduled one, a fan-out, queued or retrying deliveries, waiting escalation steps)',
    auth: 'app',
    params: idParam,
    answers: {
      200: {
        description: 'Deliveries canceled now, and ones a worker had already started',
        body: cancelResult,
      },
    },
    errors: {
      409: '`already_canceled`, or `already_sent`: nothing left to send; `idempotency_key_reused`, `idempotency_key_in_progress`',
      503: '`unavailable`: Redis unreachable, nothing was changed',
    },
  },
];
