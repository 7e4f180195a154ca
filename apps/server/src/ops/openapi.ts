import type { INestApplication } from '@nestjs/common';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { z } from 'zod';
import { upsertUserSchemaWith } from '../contacts/channel-addresses';
import { usersRoutes } from '../contacts/users.openapi';
import { buildPaths } from '../contract/openapi-builder';
import type { RouteContract } from '../contract/route-contract';
import { redriveRoutes } from '../delivery/redrive/redrive.openapi';
import { inboxRoutes } from '../inbox/inbox.openapi';
import { notificationsRoutes } from '../notifications/notifications.openapi';
import { type PluginChannel, pluginChannels } from '../plugins/plugin-channels';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { preferenceCentreRoutes } from '../preference-centre/preference-centre.openapi';
import { preferencesRoutes } from '../preferences/preferences.openapi';
import { buildNotificationRequestSchema } from '../templates/notification-request';
import { buildPreviewSchema, buildPublishTemplateSchema } from '../templates/template-schemas';
import { templatesRoutes } from '../templates/templates.openapi';
import { trackingRoutes } from '../tracking/tracking.openapi';
import { appsRoutes } from './apps.openapi';
import { describeOperations } from './openapi-operations';
import { opsRoutes } from './ops.openapi';
import { pluginsRoutes } from './plugins.openapi';

/** Every route the server answers, with the zod schemas of what it takes and answers. */
export const ROUTES: RouteContract[] = [
  ...notificationsRoutes,
  ...usersRoutes,
  ...preferencesRoutes,
  ...preferenceCentreRoutes,
  ...inboxRoutes,
  ...trackingRoutes,
  ...redriveRoutes,
  ...templatesRoutes,
  ...pluginsRoutes,
  ...appsRoutes,
  ...opsRoutes,
];

let built: OpenAPIObject | undefined;

/**
 * OpenAPI 3.1 built from the zod schemas that validate requests and describe answers, so the
 * document cannot drift from what the API accepts and returns. Served at /docs (UI) and /docs-json
 * with the channels the loaded plugins add (`content.<channel>`, `addresses.<channel>`, a
 * template's `content.<channel>` and `locales.<tag>.<channel>`); the
 * committed file has the core channels only.
 */
export function openApiDocument(channels: readonly PluginChannel[] = []): OpenAPIObject {
  const document = coreDocument();
  if (channels.length === 0) return document;
  // The request schemas that grow with the loaded channels, built by the same functions that
  // validate the requests.
  const schemas = document.components!.schemas as Record<string, unknown>;
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  schemas.NotificationRequest = json(buildNotificationRequestSchema(channels));
  schemas.UpsertUser = json(upsertUserSchemaWith(channels));
  schemas.PublishTemplate = json(buildPublishTemplateSchema(channels));
  schemas.PreviewTemplate = json(buildPreviewSchema(channels));
  return document;
}

function coreDocument(): OpenAPIObject {
  if (built) return structuredClone(built);
  const { paths, schemas } = buildPaths(ROUTES);
  built = describeOperations({
    openapi: '3.1.0',
    info: {
      title: 'Clarion',
      version: '0.1.0',
      description:
        'Self-hosted notification server. `/v1` needs an app key (HTTP Basic appKey:appSecret); `/admin` the admin token. Every error is `{error: {code, message, details}}`. Every POST, PUT, PATCH and DELETE takes an `Idempotency-Key` header: the first answer is replayed for the same request (`Idempotent-Replayed: true`); another request with the key is 409 `idempotency_key_reused`, a repeat still running 409 `idempotency_key_in_progress`.',
    },
    components: {
      securitySchemes: {
        appKey: { type: 'http', scheme: 'basic', description: 'appKey:appSecret' },
        admin: { type: 'http', scheme: 'bearer', description: 'CLARION_ADMIN_TOKEN' },
      },
      schemas,
    },
    security: [{ appKey: [] }],
    paths,
  }) as unknown as OpenAPIObject;
  return structuredClone(built);
}

export function setupOpenApi(app: INestApplication, plugins: PluginRegistry): void {
  SwaggerModule.setup('docs', app, openApiDocument(pluginChannels(plugins)), {
    jsonDocumentUrl: 'docs-json',
  });
}
