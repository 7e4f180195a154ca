import { z } from 'zod';
import { appSettingsSchema } from '../apps/app-settings';
import { named, nullableTimestamp, type RouteContract, timestamp, uuid } from '../contract/route-contract';
import {
  createAppSchema,
  createKeySchema,
  integrationSchema,
  rotateUserTokenSecretSchema,
  settingsPatchSchema,
} from './admin.controller';

const settings = named('AppSettings', appSettingsSchema);
/** The settings as stored and answered: every default filled in (a copy, named apart from the request's). */
const storedSettings = named('AppSettingsStored', appSettingsSchema.clone());
const appParams = z.object({ appId: uuid });
const keyParams = z.object({ appId: uuid, keyId: uuid });
const integrationParams = z.object({ appId: uuid, plugin: z.string() });
const keyKind = z.enum(['server', 'client']).meta({
  description: '`server` (secret, `sk_…`) or `client` (publishable, `pk_…`, acts for one signed-in user)',
});
const newKey = {
  id: uuid,
  kind: keyKind,
  appKey: z.string(),
  appSecret: z.string().meta({ description: 'Shown once' }),
};
const appView = z.object({ id: uuid, name: z.string(), settings: storedSettings });
const settingsAnswer = z.object({ settings: storedSettings });

/** The operator API (admin token). */
export const appsRoutes: RouteContract[] = [
  {
    method: 'post',
    path: '/admin/apps',
    summary: 'Create an app (returns its first server key and the user-token secret, shown once)',
    auth: 'admin',
    body: named('CreateApp', createAppSchema),
    answers: {
      201: {
        description: 'Created',
        body: z.object({ app: appView, key: z.object(newKey), userTokenSecret: z.string() }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/apps',
    summary: 'List apps',
    auth: 'admin',
    answers: {
      200: {
        description: 'Apps, oldest first',
        body: z.object({ apps: z.array(z.object({ id: uuid, name: z.string(), createdAt: timestamp })) }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/apps/{appId}',
    summary: 'An app with its settings (defaults filled in)',
    auth: 'admin',
    params: appParams,
    answers: { 200: { description: 'The app', body: appView } },
  },
  {
    method: 'put',
    path: '/admin/apps/{appId}/settings',
    summary: 'Replace the app settings (unset ones take their defaults)',
    auth: 'admin',
    params: appParams,
    body: settings,
    answers: { 200: { description: 'The settings stored', body: settingsAnswer } },
  },
  {
    method: 'patch',
    path: '/admin/apps/{appId}/settings',
    summary:
      'Change some settings: a JSON Merge Patch (RFC 7396; `application/merge-patch+json` or JSON); null resets one; the result is validated as a whole',
    auth: 'admin',
    params: appParams,
    body: settingsPatchSchema,
    bodyTypes: ['application/merge-patch+json', 'application/json'],
    answers: { 200: { description: 'The settings after the change', body: settingsAnswer } },
  },
  {
    method: 'post',
    path: '/admin/apps/{appId}/keys',
    summary: 'Create a key (server or client)',
    auth: 'admin',
    params: appParams,
    body: createKeySchema,
    bodyRequired: false,
    answers: {
      201: {
        description: 'Created; the secret is shown once',
        body: z.object({ ...newKey, name: z.string() }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/apps/{appId}/keys',
    summary: 'List keys (no secrets)',
    auth: 'admin',
    params: appParams,
    answers: {
      200: {
        description: 'Keys, oldest first, revoked ones too',
        body: z.object({
          keys: z.array(
            z.object({
              id: uuid,
              kind: keyKind,
              name: z.string(),
              appKey: z.string(),
              createdAt: timestamp,
              revokedAt: nullableTimestamp,
            }),
          ),
        }),
      },
    },
  },
  {
    method: 'post',
    path: '/admin/apps/{appId}/keys/{keyId}/rotate',
    summary: 'A new secret for a key (the old one stops working)',
    auth: 'admin',
    params: keyParams,
    answers: { 201: { description: 'The new secret, shown once', body: z.object(newKey) } },
  },
  {
    method: 'delete',
    path: '/admin/apps/{appId}/keys/{keyId}',
    summary: 'Revoke a key',
    auth: 'admin',
    params: keyParams,
    answers: { 204: { description: 'Revoked' } },
  },
  {
    method: 'post',
    path: '/admin/apps/{appId}/user-token-secret/rotate',
    summary: 'A new user-token secret; the old one verifies tokens for graceSeconds more (default a day)',
    auth: 'admin',
    params: appParams,
    body: rotateUserTokenSecretSchema,
    bodyRequired: false,
    answers: {
      201: {
        description: 'The new secret (shown once) and when the old one stops verifying',
        body: z.object({ userTokenSecret: z.string(), previousValidUntil: timestamp }),
      },
    },
  },
  {
    method: 'put',
    path: '/admin/apps/{appId}/integrations/{plugin}',
    summary: 'The app’s own provider settings for a plugin (stored sealed)',
    auth: 'admin',
    params: integrationParams,
    body: integrationSchema,
    answers: { 204: { description: 'Stored' } },
  },
  {
    method: 'delete',
    path: '/admin/apps/{appId}/integrations/{plugin}',
    summary: 'Remove the app’s own provider settings',
    auth: 'admin',
    params: integrationParams,
    answers: { 204: { description: 'Removed' } },
  },
];
