import type { INestApplication } from '@nestjs/common';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { appSettingsSchema } from '../apps/app-settings';
import { upsertUserSchemaWith } from '../contacts/channel-addresses';
import { registerDeviceSchema } from '../contacts/user-schemas';
import { usersOpenApi } from '../contacts/users.openapi';
import { redriveOpenApi } from '../delivery/redrive/redrive.openapi';
import { BATCH_MAX_ITEMS } from '../notifications/batch-request';
import { buildNotificationRequestSchema } from '../notifications/notification-request';
import { notificationsOpenApi } from '../notifications/notifications.openapi';
import { type PluginChannel, pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { preferenceCentreOpenApi } from '../preference-centre/preference-centre.openapi';
import { putPreferencesSchema } from '../preferences/preference-schemas';
import { templatesOpenApi } from '../templates/templates.openapi';
import { trackingOpenApi } from '../tracking/tracking.openapi';
import { describeOperations } from './openapi-operations';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const error = { $ref: '#/components/schemas/Error' };
const json = (ref: string) => ({
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const errors = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: error } } },
  401: { description: 'Missing or wrong credentials', content: { 'application/json': { schema: error } } },
  403: { description: 'Not allowed for this key', content: { 'application/json': { schema: error } } },
  429: {
    description:
      'Over this key’s API quota: see Retry-After. Every /v1 answer carries RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy',
    content: { 'application/json': { schema: error } },
  },
};
const userId = { name: 'userId', in: 'path', required: true, schema: { type: 'string' } };
const appId = { name: 'appId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const keyId = { name: 'keyId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/**
 * OpenAPI 3.1 written from the same zod schemas that validate requests, so the document cannot
 * drift from what the API accepts. Served at /docs (UI) and /docs-json, with the channels the
 * loaded plugins add (`content.<channel>`, `addresses.<channel>`); the committed file has the
 * core channels only.
 */
export function openApiDocument(channels: readonly PluginChannel[] = []): OpenAPIObject {
  return describeOperations({
    openapi: '3.1.0',
    info: {
      title: 'Clarion',
      version: '0.1.0',
      description:
        'Self-hosted notification server. `/v1` needs an app key (HTTP Basic appKey:appSecret); `/admin` the admin token. Every POST, PUT, PATCH and DELETE takes an `Idempotency-Key` header: the first answer is replayed for the same request (`Idempotent-Replayed: true`); another request with the key is 409 `idempotency_key_reused`, a repeat still running 409 `idempotency_key_in_progress`.',
    },
    components: {
      securitySchemes: {
        appKey: { type: 'http', scheme: 'basic', description: 'appKey:appSecret' },
        admin: { type: 'http', scheme: 'bearer', description: 'CLARION_ADMIN_TOKEN' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message', 'details'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
        NotificationRequest: schema(buildNotificationRequestSchema(channels)),
        NotificationBatch: {
          type: 'object',
          required: ['notifications'],
          additionalProperties: false,
          properties: {
            notifications: {
              type: 'array',
              minItems: 1,
              maxItems: BATCH_MAX_ITEMS,
              items: { $ref: '#/components/schemas/NotificationRequest' },
            },
          },
        },
        NotificationBatchResults: {
          type: 'object',
          required: ['results'],
          properties: {
            results: {
              type: 'array',
              items: {
                type: 'object',
                required: ['status'],
                properties: {
                  status: { type: 'integer', enum: [202, 200, 400, 409, 422, 429, 500, 503] },
                  id: { type: 'string', format: 'uuid' },
                  state: { type: 'string', enum: ['accepted', 'scheduled', 'fanout', 'duplicate'] },
                  duplicate: { type: 'boolean' },
                  deliveries: { type: 'integer' },
                  suppressed: { type: 'integer' },
                  error: { $ref: '#/components/schemas/Error/properties/error' },
                },
              },
            },
          },
        },
        UpsertUser: schema(upsertUserSchemaWith(channels)),
        RegisterDevice: schema(registerDeviceSchema),
        AppSettings: schema(appSettingsSchema),
        ...notificationsOpenApi.schemas,
        ...usersOpenApi.schemas,
        ...templatesOpenApi.schemas,
        ...trackingOpenApi.schemas,
        ...preferenceCentreOpenApi.schemas,
        ...redriveOpenApi.schemas,
        PutPreferences: schema(putPreferencesSchema),
      },
    },
    security: [{ appKey: [] }],
    paths: {
      '/v1/notifications': {
        post: {
          summary: 'Send a notification to a user, a list of users or a topic',
          requestBody: { required: true, ...json('NotificationRequest') },
          responses: {
            202: {
              description:
                'Accepted and durable: `{id, status: "accepted", deliveries, suppressed}`, `{id, status: "scheduled", …}`, or `{id, status: "fanout"}` (a topic or a large list, expanded in the background: no counts yet)',
              ...json('NotificationAccepted'),
            },
            200: {
              description: 'Repeat of an eventId: the first notification id, nothing sent again',
              ...json('NotificationAccepted'),
            },
            409: { description: 'eventId reused with a different body' },
            422: {
              description:
                '`template_error`: a template could not be rendered (names the variable); `content_too_large`: content renders past its channel limit (names the field); `unverified_sender`: `from` is not in the app’s `senders`',
            },
            ...errors,
          },
        },
      },
      '/v1/notifications/batch': {
        post: {
          summary:
            'Send up to 1,000 notifications in one request (server keys only); each item is handled as its own POST /v1/notifications',
          requestBody: { required: true, ...json('NotificationBatch') },
          responses: {
            207: {
              description:
                'One result per item, in request order: `202` accepted (stored), `200` a repeated eventId, `409` an eventId reused with another body, `400` an invalid item, `422` a template or content refused, `429` over the API quota (each item counts as one request). A failed item stored nothing and does not affect the others',
              ...json('NotificationBatchResults'),
            },
            400: {
              description:
                'Not a batch envelope (bad JSON, `notifications` missing, not an array, empty or over 1,000 items): nothing is stored',
              content: { 'application/json': { schema: error } },
            },
            401: errors[401],
            403: errors[403],
            429: errors[429],
          },
        },
      },
      '/v1/notifications/{id}': {
        get: {
          summary: 'A notification with each delivery and its status history (paged: nextCursor → ?cursor=)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
            },
            { name: 'cursor', in: 'query', schema: { type: 'string', format: 'uuid' } },
            {
              name: 'after',
              in: 'query',
              schema: { type: 'string', format: 'uuid' },
              description: 'Same as cursor',
            },
          ],
          responses: {
            200: { description: 'Found', ...json('Notification') },
            404: { description: 'Not found' },
            ...errors,
          },
        },
      },
      '/v1/notifications/{id}/cancel': {
        post: {
          summary:
            'Cancel what a notification has not sent yet (a scheduled one, a fan-out, queued or retrying deliveries)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: {
            200: {
              description:
                '`{id, status: "canceled", canceled, inFlight}`: deliveries canceled now, and ones a worker had already started',
            },
            404: { description: 'No such notification for this app' },
            409: { description: '`already_canceled`, or `already_sent`: nothing left to send' },
            503: { description: 'Redis unreachable: nothing was changed' },
            ...errors,
          },
        },
      },
      '/v1/users/{userId}': {
        put: {
          summary: 'Create or update a user and their e-mail/phone',
          parameters: [userId],
          requestBody: json('UpsertUser'),
          responses: {
            201: { description: 'Created: the user', ...json('User') },
            200: { description: 'Updated: the user', ...json('User') },
            ...errors,
          },
        },
        get: {
          summary: 'A user with contacts and topics',
          description:
            '`contacts` lists the e-mail, phone and webhook contacts (`{field, address, disabled, disabledReason, disabledAt}`), `devices` the devices with the same state: a contact a provider declared dead (`invalid_address`, a bounce) is skipped until it is set again.',
          parameters: [userId],
          responses: {
            200: { description: 'The user', ...json('User') },
            404: { description: 'Not found' },
            ...errors,
          },
        },
        delete: {
          summary: 'Erase a user and all their contacts',
          parameters: [userId],
          responses: { 204: { description: 'Erased' }, 404: { description: 'Not found' }, ...errors },
        },
      },
      '/v1/users/{userId}/preferences': {
        get: {
          summary:
            'A user’s preference rules, quiet hours, and the app’s category defaults (server keys, or a client key for the signed-in user)',
          parameters: [userId],
          responses: {
            200: { description: 'The preferences' },
            404: { description: 'Unknown user' },
            ...errors,
          },
        },
        put: {
          summary:
            'Set listed rules (enabled:null forgets one; unlisted rules stay) and/or replace quiet hours (null removes them)',
          parameters: [userId],
          requestBody: { required: true, ...json('PutPreferences') },
          responses: {
            200: { description: 'The preferences after the change' },
            404: { description: 'Unknown user' },
            422: { description: 'Turning off a critical category' },
            ...errors,
          },
        },
      },
      '/v1/users/{userId}/devices': {
        post: {
          summary: 'Register a device (idempotent; a server key moves a known token to this user)',
          parameters: [userId],
          requestBody: { required: true, ...json('RegisterDevice') },
          responses: {
            201: { description: 'Registered' },
            200: { description: 'Already known (moved/re-enabled)' },
            409: { description: '`device_taken`: a client key may not move another user’s device' },
            ...errors,
          },
        },
      },
      '/v1/users/{userId}/devices/{deviceId}': {
        delete: {
          summary: 'Remove a device',
          parameters: [userId, { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 204: { description: 'Removed' }, ...errors },
        },
      },
      '/v1/users/{userId}/topics/{topic}': {
        put: {
          summary: 'Subscribe to a topic',
          parameters: [userId, { name: 'topic', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 204: { description: 'Subscribed' }, ...errors },
        },
        delete: {
          summary: 'Unsubscribe',
          parameters: [userId, { name: 'topic', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 204: { description: 'Unsubscribed' }, ...errors },
        },
      },
      '/admin/plugins': {
        get: {
          summary: 'The loaded plugins: name, package, channel, version, SDK range, health',
          description:
            '`{plugins: [{name, package, channel, version, sdkRange, health, reason?, warnings}]}`. `health` is `healthy` or `unhealthy` for the plugins this process sends with, `unknown` on an API-only process.',
          security: [{ admin: [] }],
          responses: { 200: { description: 'Plugins' }, ...errors },
        },
      },
      '/admin/apps': {
        post: {
          summary: 'Create an app (returns its first server key; the secret is shown once)',
          security: [{ admin: [] }],
          responses: { 200: { description: 'Created' }, ...errors },
        },
        get: { summary: 'List apps', security: [{ admin: [] }], responses: { 200: { description: 'Apps' } } },
      },
      '/admin/apps/{appId}': {
        get: {
          summary: 'An app with its settings (defaults filled in)',
          security: [{ admin: [] }],
          parameters: [appId],
          responses: {
            200: { description: '`{id, name, settings}`' },
            404: { description: 'Not found' },
            ...errors,
          },
        },
      },
      '/admin/apps/{appId}/settings': {
        put: {
          summary: 'Replace the app settings',
          security: [{ admin: [] }],
          parameters: [appId],
          requestBody: { required: true, ...json('AppSettings') },
          responses: { 200: { description: '`{settings}`' }, 404: { description: 'Not found' }, ...errors },
        },
        patch: {
          summary:
            'Change some settings: a JSON Merge Patch (RFC 7396; `application/merge-patch+json` or JSON); null resets one; the result is validated as a whole',
          security: [{ admin: [] }],
          parameters: [appId],
          requestBody: {
            required: true,
            content: {
              'application/merge-patch+json': { schema: { type: 'object' } },
              'application/json': { schema: { type: 'object' } },
            },
          },
          responses: {
            200: { description: '`{settings}` after the change' },
            404: { description: 'Not found' },
            ...errors,
          },
        },
      },
      '/admin/apps/{appId}/keys': {
        post: {
          summary: 'Create a key (server or client)',
          security: [{ admin: [] }],
          parameters: [appId],
          responses: { 200: { description: 'Created; secret shown once' }, ...errors },
        },
        get: {
          summary: 'List keys (no secrets)',
          security: [{ admin: [] }],
          parameters: [appId],
          responses: { 200: { description: 'Keys' } },
        },
      },
      '/admin/apps/{appId}/keys/{keyId}/rotate': {
        post: {
          summary: 'A new secret for a key (the old one stops working)',
          security: [{ admin: [] }],
          parameters: [appId, keyId],
          responses: {
            201: { description: 'The new secret, shown once' },
            404: { description: 'Unknown' },
            ...errors,
          },
        },
      },
      '/admin/apps/{appId}/keys/{keyId}': {
        delete: {
          summary: 'Revoke a key',
          security: [{ admin: [] }],
          parameters: [appId, keyId],
          responses: { 204: { description: 'Revoked' }, 404: { description: 'Unknown' }, ...errors },
        },
      },
      '/admin/apps/{appId}/user-token-secret/rotate': {
        post: {
          summary:
            'A new user-token secret; the old one verifies tokens for graceSeconds more (default a day)',
          security: [{ admin: [] }],
          parameters: [appId],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 2_592_000 } },
                  additionalProperties: false,
                },
              },
            },
          },
          responses: {
            201: { description: '`{userTokenSecret, previousValidUntil}`; the secret is shown once' },
            404: { description: 'Unknown app' },
            ...errors,
          },
        },
      },
      '/admin/apps/{appId}/integrations/{plugin}': {
        put: {
          summary: 'The app’s own provider settings for a plugin (stored sealed)',
          security: [{ admin: [] }],
          parameters: [appId, { name: 'plugin', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { type: 'object', required: ['config'], properties: { config: { type: 'object' } } },
              },
            },
          },
          responses: {
            204: { description: 'Stored' },
            404: { description: 'Unknown app or plugin' },
            ...errors,
          },
        },
        delete: {
          summary: 'Remove the app’s own provider settings',
          security: [{ admin: [] }],
          parameters: [appId, { name: 'plugin', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 204: { description: 'Removed' }, 404: { description: 'None stored' }, ...errors },
        },
      },
      ...templatesOpenApi.paths,
      ...trackingOpenApi.paths,
      ...preferenceCentreOpenApi.paths,
      ...redriveOpenApi.paths,
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { 200: { description: 'Alive' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: database, Redis, plugins',
          security: [],
          responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { 200: { description: 'Text exposition format' } },
        },
      },
    },
  }) as unknown as OpenAPIObject;
}

export function setupOpenApi(app: INestApplication, plugins: PluginRegistry): void {
  SwaggerModule.setup('docs', app, openApiDocument(pluginChannels(plugins)), {
    jsonDocumentUrl: 'docs-json',
  });
}
