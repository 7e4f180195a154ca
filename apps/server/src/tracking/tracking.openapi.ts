import { z } from 'zod';
import { userIdParam } from '../contacts/user-schemas';
import { named, type RouteContract, timestamp, uuid } from '../contract/route-contract';
import { historyOf } from '../deliveries/event-view';
import { deliveryEvent } from '../notifications/notifications.openapi';
import { clientEventsSchema } from './client-events.controller';
import { statsQuerySchema } from './stats.controller';
import { emptyCounts, withRates } from './stats-view';
import { userDeliveriesQuerySchema } from './user-deliveries.controller';
import { createStatusWebhookSchema } from './webhooks/status-webhooks.controller';

const NOTIFICATION_ID = '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f';
const DELIVERY_ID = '0193a1c2-7b8f-7c3d-9f00-1a2b3c4d5e6f';
/** SendGrid's X-Message-Id, which its events' sg_message_id starts with. */
const SENDGRID_MESSAGE_ID = 'Mmq4Nx6LSNKoDXgYvGZ5Jw';

const userDelivery = z.object({
  id: uuid,
  notificationId: uuid,
  category: z.string().nullable(),
  template: z.string().nullable(),
  channel: z.string(),
  plugin: z.string().nullable(),
  status: z.string(),
  reason: z.string().nullable(),
  attempts: z.int(),
  providerMessageId: z.string().nullable(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable().meta({ description: 'Always null for a client key' }),
  createdAt: timestamp,
  updatedAt: timestamp,
  events: z.array(deliveryEvent),
});

const userDeliveriesExample = {
  userId: 'alice',
  deliveries: [
    {
      id: DELIVERY_ID,
      notificationId: NOTIFICATION_ID,
      category: 'orders',
      template: 'order-shipped',
      channel: 'email',
      plugin: 'sendgrid',
      status: 'delivered',
      reason: null,
      attempts: 1,
      providerMessageId: SENDGRID_MESSAGE_ID,
      errorCode: null,
      errorMessage: null,
      createdAt: '2026-01-02T03:04:05.000Z',
      updatedAt: '2026-01-02T03:04:09.000Z',
      // Built as the API builds a history from stored events (deliveries/event-view.ts).
      events: historyOf('delivered', '2026-01-02T03:04:05.000Z', [
        {
          status: 'sent',
          at: '2026-01-02T03:04:06.000Z',
          attempt: 1,
          detail: { plugin: 'sendgrid', providerMessageId: SENDGRID_MESSAGE_ID },
        },
        {
          status: 'delivered',
          at: '2026-01-02T03:04:09.000Z',
          attempt: null,
          detail: {
            source: 'sendgrid',
            plugin: 'sendgrid',
            providerMessageId: SENDGRID_MESSAGE_ID,
            providerEvent: 'delivered',
          },
        },
      ]),
    },
  ],
  nextCursor: null,
};

const rate = z.number().nullable();
const counts = {
  requested: z.int(),
  sent: z.int(),
  delivered: z.int(),
  opened: z.int(),
  clicked: z.int(),
  failed: z.int(),
  expired: z.int(),
  suppressed: z.int(),
  failedByReason: z.record(z.string(), z.int()),
  suppressedByReason: z.record(z.string(), z.int()),
  rates: z.object({
    deliveryRate: rate.meta({ description: 'delivered / sent' }),
    failureRate: rate.meta({ description: 'failed / (requested − suppressed)' }),
    openRate: rate.meta({ description: 'opened / sent' }),
    clickThroughRate: rate.meta({ description: 'clicked / sent' }),
  }),
};
/** One set of counts as the stats answer has them, the rates derived by the server's own code. */
function countsExample(
  requested: number,
  sent: number,
  delivered: number,
  opened: number,
  clicked: number,
  failed: number,
  expired: number,
  suppressed: number,
) {
  return withRates({
    ...emptyCounts(),
    ...{ requested, sent, delivered, opened, clicked, failed, expired, suppressed },
    failedByReason: { invalid_address: failed },
    suppressedByReason: { opted_out: suppressed },
  });
}

const statsAnswer = named(
  'Stats',
  z
    .object({
      from: timestamp,
      to: timestamp,
      bucket: z.enum(['hour', 'day']),
      filters: z.object({
        channel: z.string().nullable(),
        plugin: z.string().nullable(),
        template: z.string().nullable(),
        category: z.string().nullable(),
      }),
      totals: z.object(counts),
      buckets: z.array(z.object({ start: timestamp, ...counts })),
    })
    .meta({
      examples: [
        {
          from: '2026-01-01T00:00:00.000Z',
          to: '2026-01-03T00:00:00.000Z',
          bucket: 'day',
          filters: { channel: 'email', plugin: null, template: null, category: null },
          totals: countsExample(1500, 1480, 1450, 610, 95, 12, 3, 5),
          buckets: [
            { start: '2026-01-01T00:00:00.000Z', ...countsExample(700, 690, 675, 280, 41, 7, 1, 2) },
            { start: '2026-01-02T00:00:00.000Z', ...countsExample(800, 790, 775, 330, 54, 5, 2, 3) },
          ],
        },
      ],
    }),
);

const webhook = { id: uuid, url: z.string(), events: z.array(z.string()), createdAt: timestamp };
/** Callbacks are served by the provider's plugin: where it is not loaded, nobody receives them. */
const NOT_LOADED = '`not_found`: the plugin is not loaded in this process';
const callbackAnswer = {
  description: 'Recorded: how many events arrived, changed a delivery, or named no known delivery',
  body: z
    .object({ received: z.int(), changed: z.int(), unknown: z.int() })
    .meta({ examples: [{ received: 3, changed: 2, unknown: 1 }] }),
};
const WEBHOOK_EXAMPLE = {
  id: '0193a1c2-7b90-7c3d-9f00-1a2b3c4d5e6f',
  url: 'https://shop.example.com/hooks/clarion',
  events: ['delivered', 'failed'],
  createdAt: '2026-01-02T03:04:05.000Z',
};
/** The two pages a person sees from an unsubscribe link (unsubscribe/unsubscribe-page.ts). */
const unsubscribePage = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="robots" content="noindex"><title>${title}</title>\n</head><body>${body}</body></html>`;
const UNSUBSCRIBE_TOKEN =
  'eyJ2IjoxLCJhIjoiMDE5M2ExYzItNmQ0ZS03YTFiLThjMmQtM2U0ZjVhNmI3YzhkIiwidSI6ImFsaWNlIiwiYyI6Im1hcmtldGluZyJ9.DXugtw9_noWs19H-pIJdkb4ch-yDpQyQhVSLwYjnQCc';
const form = z.record(z.string(), z.unknown());
const signed = (
  summary: string,
  body: z.ZodType,
  type = 'application/x-www-form-urlencoded',
): Omit<RouteContract, 'path' | 'method'> => ({
  summary,
  auth: 'none',
  body,
  bodyTypes: [type],
  answers: { 200: callbackAnswer },
  errors: {
    401: '`bad_signature`: missing or invalid provider signature; `callback_not_configured`: no verification secret is set',
    404: NOT_LOADED,
  },
});
const pluginCallbackErrors = {
  400: '`invalid_callback`: a payload the plugin could not read',
  401: '`bad_signature`: missing or invalid provider signature; `callback_not_configured`: no verification secret is set',
  404: '`not_found`: no loaded plugin of that name receives callbacks',
};
const tokenQuery = z.object({ token: z.string() });

/** Delivery logs, stats, status webhooks, client events, provider callbacks, unsubscribe and tracking. */
export const trackingRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/users/{userId}/deliveries',
    summary: 'The user’s delivery log, newest first, paged (client keys: their own user)',
    auth: 'app',
    params: z.object({ userId: userIdParam }),
    query: userDeliveriesQuerySchema,
    answers: {
      200: {
        description: 'A page; pass nextCursor as ?cursor= for the next',
        body: z
          .object({
            userId: z.string(),
            deliveries: z.array(userDelivery),
            nextCursor: uuid.nullable(),
          })
          .meta({ examples: [userDeliveriesExample] }),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/stats',
    summary: 'Requested, sent, delivered, failed, opened, clicked… by hour or day (UTC), with rates',
    auth: 'app',
    query: statsQuerySchema,
    answers: { 200: { description: 'Totals and buckets', body: statsAnswer } },
  },
  {
    method: 'post',
    path: '/v1/webhooks',
    summary: 'Register a status webhook (server keys)',
    auth: 'app',
    body: named('CreateStatusWebhook', createStatusWebhookSchema),
    bodyExample: { url: WEBHOOK_EXAMPLE.url, events: WEBHOOK_EXAMPLE.events },
    answers: {
      201: {
        description: 'Registered; the secret is shown once',
        body: z.object({ ...webhook, secret: z.string() }).meta({
          examples: [{ ...WEBHOOK_EXAMPLE, secret: 'whsec_t49ibv-qO6rvFEjX7f3N3q6i-zcnLS51Ys0x5wDSZD8' }],
        }),
      },
    },
    errors: {
      409: '`limit_reached`: an app may register at most 10; `idempotency_key_reused`, `idempotency_key_in_progress`',
    },
  },
  {
    method: 'get',
    path: '/v1/webhooks',
    summary: 'List status webhooks',
    auth: 'app',
    answers: {
      200: {
        description: 'Webhooks',
        body: z
          .object({ webhooks: z.array(z.object(webhook)) })
          .meta({ examples: [{ webhooks: [WEBHOOK_EXAMPLE] }] }),
      },
    },
  },
  {
    method: 'delete',
    path: '/v1/webhooks/{id}',
    summary: 'Remove a status webhook',
    auth: 'app',
    params: z.object({ id: uuid }),
    answers: { 204: { description: 'Removed' } },
  },
  {
    method: 'post',
    path: '/v1/events',
    summary: 'A client reports a push or web notification opened or clicked',
    auth: 'app',
    body: named('ClientEvents', clientEventsSchema),
    bodyExample: {
      events: [
        { deliveryId: DELIVERY_ID, type: 'opened' },
        { deliveryId: DELIVERY_ID, type: 'clicked' },
      ],
    },
    answers: {
      200: {
        description: 'Recorded; `changed` is false for a repeat',
        body: z
          .object({
            results: z.array(
              z.object({ deliveryId: uuid, type: z.enum(['opened', 'clicked']), changed: z.boolean() }),
            ),
          })
          .meta({
            examples: [
              {
                results: [
                  { deliveryId: DELIVERY_ID, type: 'opened', changed: true },
                  { deliveryId: DELIVERY_ID, type: 'clicked', changed: false },
                ],
              },
            ],
          }),
      },
    },
    errors: {
      404: '`not_found`: a delivery unknown (or another user’s): `details.deliveryIds`; nothing recorded',
      409: '`not_sent`: a delivery not sent yet (or failed): `details.deliveries`; nothing recorded; `idempotency_key_reused`, `idempotency_key_in_progress`',
    },
  },
  {
    method: 'post',
    path: '/v1/callbacks/twilio/status',
    ...signed('Twilio status callback (X-Twilio-Signature)', form),
  },
  {
    method: 'post',
    path: '/v1/callbacks/twilio/inbound',
    ...signed('Twilio incoming message: STOP/START (X-Twilio-Signature)', form),
    answers: {
      200: {
        description: 'An empty TwiML answer',
        type: 'text/xml',
        example: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
      },
    },
  },
  {
    method: 'post',
    path: '/v1/callbacks/sendgrid',
    ...signed(
      'SendGrid Event Webhook (signed)',
      z.array(z.record(z.string(), z.unknown())),
      'application/json',
    ),
  },
  {
    method: 'post',
    path: '/v1/callbacks/mailchimp',
    ...signed('Mailchimp Transactional webhook (X-Mandrill-Signature)', form),
  },
  {
    method: 'head',
    path: '/v1/callbacks/mailchimp',
    summary: 'Mandrill’s URL check',
    auth: 'none',
    answers: { 200: { description: 'OK' } },
    usualErrors: [404],
  },
  {
    method: 'get',
    path: '/v1/callbacks/vonage',
    summary: 'Vonage delivery receipt (signed, as query)',
    auth: 'none',
    answers: { 200: callbackAnswer },
    errors: { 401: '`bad_signature` or `callback_not_configured`', 404: NOT_LOADED },
  },
  {
    method: 'post',
    path: '/v1/callbacks/vonage',
    ...signed('Vonage delivery receipt (signed, form or JSON)', form),
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
  },
  // Any loaded plugin that declares `callbacks` (the first-party ones above are instances of these).
  {
    method: 'post',
    path: '/v1/callbacks/{plugin}',
    ...signed('A plugin’s callback: delivery receipts, inbound replies (signed as that plugin checks)', form),
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
    errors: pluginCallbackErrors,
  },
  {
    method: 'get',
    path: '/v1/callbacks/{plugin}',
    summary: 'A plugin’s callback sent as a GET (query parameters)',
    auth: 'none',
    answers: { 200: callbackAnswer },
    errors: pluginCallbackErrors,
  },
  {
    method: 'head',
    path: '/v1/callbacks/{plugin}',
    summary: 'A provider’s check that the callback URL answers',
    auth: 'none',
    answers: { 200: { description: 'OK' } },
    usualErrors: [404],
  },
  {
    method: 'post',
    path: '/v1/callbacks/{plugin}/{path}',
    ...signed('A plugin’s callback below its URL, e.g. `…/inbound` for replies', form),
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
    errors: pluginCallbackErrors,
  },
  {
    method: 'get',
    path: '/v1/unsubscribe',
    summary: 'E-mail unsubscribe page (signed token)',
    auth: 'none',
    query: tokenQuery,
    answers: {
      200: {
        description: 'The confirmation page',
        type: 'text/html',
        example: unsubscribePage(
          'Unsubscribe',
          `<h1>Unsubscribe</h1><p>Stop receiving “marketing” e-mails from Shop?</p>\n<form method="post" action="?token=${UNSUBSCRIBE_TOKEN}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
        ),
      },
    },
    errors: {
      400: '`invalid_token`: not an unsubscribe token (`details` says why)',
      401: '`forged_token`: a token not signed by this server',
      404: '`not_found`: the token’s user no longer exists',
    },
  },
  {
    method: 'post',
    path: '/v1/unsubscribe',
    summary: 'RFC 8058 one-click unsubscribe (the token in the query, as in List-Unsubscribe)',
    auth: 'none',
    query: tokenQuery,
    answers: {
      200: {
        description: 'Unsubscribed: a page saying so',
        type: 'text/html',
        example: unsubscribePage(
          'Unsubscribed',
          '<h1>You are unsubscribed</h1><p>You will no longer receive “marketing” e-mails from Shop.</p>',
        ),
      },
    },
    errors: {
      400: '`invalid_token`: not an unsubscribe token (`details` says why)',
      401: '`forged_token`: a token not signed by this server',
      404: '`not_found`: the token’s user no longer exists',
    },
  },
  {
    method: 'get',
    path: '/t/{token}',
    summary: 'Tracked link: records the click and redirects',
    auth: 'none',
    answers: {
      302: { description: 'Redirect to the link’s target' },
      404: {
        description: 'Invalid or expired link: a page for the person who clicked, not an API error',
        type: 'text/plain',
        example: 'This link is not valid or has expired.',
      },
    },
    usualErrors: [414],
  },
  {
    method: 'get',
    path: '/t/o/{token}',
    summary: 'E-mail open pixel',
    auth: 'none',
    answers: { 200: { description: 'A 1×1 GIF (also for an unknown token)', type: 'image/gif' } },
    usualErrors: [414],
  },
];
