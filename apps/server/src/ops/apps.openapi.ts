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

const APP_ID = '0193a1c2-6d4e-7a1b-8c2d-3e4f5a6b7c8d';
const KEY_ID = '0193a1c2-6d4f-7a1b-8c2d-3e4f5a6b7c8d';
const CREATED_AT = '2026-01-02T03:04:05.000Z';
/**
 * Settings as answered: the defaults filled in beside what the operator set. Shown on the answers,
 * not on AppSettingsStored: metadata on that copy makes zod write it out in full (its defaults
 * required) instead of a $ref to AppSettings, which would change the contract, not just document it.
 */
const SETTINGS_EXAMPLE = {
  allowClientSending: false,
  providers: { sms: ['twilio', 'vonage'] },
  criticalCategories: ['security'],
  categoryDefaults: { marketing: 'opt_in' },
  rateLimits: [{ channel: 'sms', max: 3, perSeconds: 86_400, overflow: 'suppress' }],
  trackClicks: true,
  clientTemplates: [],
  clientSmsPerDay: 5,
  corsOrigins: [],
};
const SERVER_KEY = {
  id: KEY_ID,
  kind: 'server',
  appKey: 'sk_G5VpMz22i-d7ZRyzwIvhmpZD',
  appSecret: 'cs_XuTxMWaq2eKffhwcVI3B1KiVEXH4viVdso4X5YdLFjo',
};

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
const APP_EXAMPLE = { id: APP_ID, name: 'Shop', settings: SETTINGS_EXAMPLE };
const appView = z
  .object({ id: uuid, name: z.string(), settings: storedSettings })
  .meta({ examples: [APP_EXAMPLE] });
const settingsAnswer = z
  .object({ settings: storedSettings })
  .meta({ examples: [{ settings: SETTINGS_EXAMPLE }] });

/** The operator API (admin token). */
export const appsRoutes: RouteContract[] = [
  {
    method: 'post',
    path: '/admin/apps',
    summary: 'Create an app (returns its first server key and the user-token secret, shown once)',
    auth: 'admin',
    body: named('CreateApp', createAppSchema),
    bodyExample: {
      name: 'Shop',
      settings: { providers: { sms: ['twilio', 'vonage'] }, categoryDefaults: { marketing: 'opt_in' } },
    },
    answers: {
      201: {
        description: 'Created',
        body: z.object({ app: appView, key: z.object(newKey), userTokenSecret: z.string() }).meta({
          examples: [
            {
              app: APP_EXAMPLE,
              key: SERVER_KEY,
              userTokenSecret: 'v2hQaj8XOnGyHhSLLaQvscI_EnQBdnh-ZEVjyGNO_sE',
            },
          ],
        }),
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
        body: z
          .object({ apps: z.array(z.object({ id: uuid, name: z.string(), createdAt: timestamp })) })
          .meta({
            examples: [
              {
                apps: [
                  { id: APP_ID, name: 'Shop', createdAt: CREATED_AT },
                  {
                    id: '0193b7e0-1f2a-7b3c-8d4e-5f6a7b8c9d0e',
                    name: 'Shop staging',
                    createdAt: '2026-01-09T10:00:00.000Z',
                  },
                ],
              },
            ],
          }),
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
    bodyExample: {
      providers: SETTINGS_EXAMPLE.providers,
      categoryDefaults: SETTINGS_EXAMPLE.categoryDefaults,
      rateLimits: SETTINGS_EXAMPLE.rateLimits,
      trackClicks: true,
    },
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
    bodyExample: { trackOpens: true, rateLimits: null },
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
    bodyExample: { kind: 'client', name: 'iOS app' },
    answers: {
      201: {
        description: 'Created; the secret is shown once',
        body: z.object({ ...newKey, name: z.string() }).meta({
          examples: [
            {
              id: '0193a1c2-6d50-7a1b-8c2d-3e4f5a6b7c8d',
              kind: 'client',
              appKey: 'pk_wa5eAFEzxWnKwEyPUjqAA-fQ',
              appSecret: 'cs_h_1R3JmqPVFCQtp9OqdE1756Gk4knnQFeU45fnSAhcc',
              name: 'iOS app',
            },
          ],
        }),
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
        body: z
          .object({
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
          })
          .meta({
            examples: [
              {
                keys: [
                  {
                    id: KEY_ID,
                    kind: 'server',
                    name: '',
                    appKey: SERVER_KEY.appKey,
                    createdAt: CREATED_AT,
                    revokedAt: null,
                  },
                  {
                    id: '0193a1c2-6d50-7a1b-8c2d-3e4f5a6b7c8d',
                    kind: 'client',
                    name: 'iOS app',
                    appKey: 'pk_wa5eAFEzxWnKwEyPUjqAA-fQ',
                    createdAt: '2026-01-02T03:10:00.000Z',
                    revokedAt: null,
                  },
                ],
              },
            ],
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
    answers: {
      201: {
        description: 'The new secret, shown once',
        body: z.object(newKey).meta({
          examples: [{ ...SERVER_KEY, appSecret: 'cs_9Qm2xv7LhR0aZ4kN1pYc3T8eWb6uJfGs5dKo2iHnV0A' }],
        }),
      },
    },
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
    bodyExample: { graceSeconds: 3600 },
    answers: {
      201: {
        description: 'The new secret (shown once) and when the old one stops verifying',
        body: z.object({ userTokenSecret: z.string(), previousValidUntil: timestamp }).meta({
          examples: [
            {
              userTokenSecret: 'Xk3r9TzQ1bW7yLmN5pA2sD8fG4hJ6kV0cE1uI9oP3qR',
              previousValidUntil: '2026-01-03T03:04:05.000Z',
            },
          ],
        }),
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
    bodyExample: {
      config: {
        accountSid: 'AC0123456789abcdef0123456789abcdef',
        authToken: 'f3a9c1d2e4b5a6978877665544332211',
        from: '+14155550100',
      },
    },
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
