import { z } from 'zod';
import { clientEventsSchema } from './client-events.controller';
import { statsQuerySchema } from './stats.controller';
import { userDeliveriesQuerySchema } from './user-deliveries.controller';
import { createStatusWebhookSchema } from './webhooks/status-webhooks.controller';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const body = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
/** One query parameter per property of a zod object (what `validate(…, 'query')` reads). */
const queryParameters = (s: z.ZodObject) =>
  Object.entries((schema(s).properties ?? {}) as Record<string, unknown>).map(([name, p]) => ({
    name,
    in: 'query',
    required: false,
    schema: p,
  }));
const path = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string', ...extra },
});
/** Any plugin that declares `callbacks`; the body is the provider's (form or JSON). */
const pluginCallback = (summary: string, below = false) => ({
  summary,
  security: [],
  parameters: [path('plugin'), ...(below ? [path('path')] : [])],
  responses: {
    200: { description: 'Accepted: `{received, changed, unknown}`, or the answer the provider expects' },
    400: { description: '`invalid_callback`: a payload the plugin could not read' },
    401: {
      description: '`bad_signature`, or `callback_not_configured` (the plugin has no secret to check with)',
    },
    404: { description: 'No loaded plugin of that name receives callbacks' },
  },
});
const common = {
  400: { description: 'Invalid input' },
  401: { description: 'Missing or wrong credentials' },
  403: { description: 'Not allowed for this key' },
};
const signed = (summary: string, form = true) => ({
  summary,
  security: [],
  requestBody: {
    content: form
      ? { 'application/x-www-form-urlencoded': { schema: { type: 'object' } } }
      : { 'application/json': { schema: { type: 'array', items: { type: 'object' } } } },
  },
  responses: {
    200: { description: 'Accepted' },
    400: { description: 'Invalid' },
    401: { description: 'Bad signature' },
  },
});

/** Delivery tracking's part of the OpenAPI document (merged in ops/openapi.ts). */
export const trackingOpenApi = {
  schemas: {
    CreateStatusWebhook: schema(createStatusWebhookSchema),
    ClientEvents: schema(clientEventsSchema),
  },
  paths: {
    '/v1/users/{userId}/deliveries': {
      get: {
        summary: 'The user’s delivery log, newest first, paged (client keys: their own user)',
        parameters: [path('userId'), ...queryParameters(userDeliveriesQuerySchema)],
        responses: {
          200: { description: '`{deliveries, nextCursor}`' },
          404: { description: 'Unknown user' },
          ...common,
        },
      },
    },
    '/v1/stats': {
      get: {
        summary: 'Sent, delivered, failed, opened, clicked… by hour or day',
        parameters: queryParameters(statsQuerySchema),
        responses: { 200: { description: 'The buckets' }, ...common },
      },
    },
    '/v1/webhooks': {
      post: {
        summary: 'Register a status webhook (server keys)',
        requestBody: body('CreateStatusWebhook'),
        responses: {
          201: { description: 'Registered; the secret is shown once' },
          409: { description: 'Limit reached' },
          ...common,
        },
      },
      get: { summary: 'List status webhooks', responses: { 200: { description: 'Webhooks' }, ...common } },
    },
    '/v1/webhooks/{id}': {
      delete: {
        summary: 'Remove a status webhook',
        parameters: [path('id', { format: 'uuid' })],
        responses: { 204: { description: 'Removed' }, 404: { description: 'Not found' }, ...common },
      },
    },
    '/v1/events': {
      post: {
        summary: 'A client reports a push or web notification opened or clicked',
        requestBody: body('ClientEvents'),
        responses: { 200: { description: 'Recorded' }, 404: { description: 'Unknown delivery' }, ...common },
      },
    },
    '/v1/callbacks/twilio/status': { post: signed('Twilio status callback (X-Twilio-Signature)') },
    '/v1/callbacks/twilio/inbound': {
      post: signed('Twilio incoming message: STOP/START (X-Twilio-Signature)'),
    },
    '/v1/callbacks/sendgrid': { post: signed('SendGrid Event Webhook (signed)', false) },
    '/v1/callbacks/mailchimp': {
      post: signed('Mailchimp Transactional webhook (X-Mandrill-Signature)'),
      head: { summary: 'Mandrill’s URL check', security: [], responses: { 200: { description: 'OK' } } },
    },
    '/v1/callbacks/vonage': {
      get: {
        summary: 'Vonage delivery receipt (signed, as query)',
        security: [],
        responses: { 200: { description: 'Accepted' }, 401: { description: 'Bad signature' } },
      },
      post: signed('Vonage delivery receipt (signed, form or JSON)'),
    },
    '/v1/callbacks/{plugin}': {
      post: pluginCallback(
        'A plugin’s callback: delivery receipts, inbound replies (signed as that plugin checks)',
      ),
      get: pluginCallback('A plugin’s callback sent as a GET (query parameters)'),
    },
    '/v1/callbacks/{plugin}/{path}': {
      post: pluginCallback('A plugin’s callback below its URL, e.g. `…/inbound` for replies', true),
    },
    '/v1/unsubscribe': {
      get: {
        summary: 'E-mail unsubscribe page (signed token)',
        security: [],
        parameters: [{ name: 'token', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'HTML page' }, 400: { description: 'Invalid or expired token' } },
      },
      post: {
        summary: 'RFC 8058 one-click unsubscribe',
        security: [],
        parameters: [{ name: 'token', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'Unsubscribed' }, 400: { description: 'Invalid or expired token' } },
      },
    },
    '/t/{token}': {
      get: {
        summary: 'Tracked link: records the click and redirects',
        security: [],
        parameters: [path('token')],
        responses: {
          302: { description: 'Redirect' },
          404: {
            description: 'Invalid or expired link: a page for the person who clicked, not an API error',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/t/o/{token}': {
      get: {
        summary: 'E-mail open pixel',
        security: [],
        parameters: [path('token')],
        responses: { 200: { description: 'A 1×1 GIF' } },
      },
    },
  },
};
