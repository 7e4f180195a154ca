import { z } from 'zod';
import { categoryDefaultsSchema } from '../apps/category-defaults';
import { userIdParam } from '../contacts/user-schemas';
import { named, type RouteContract, timestamp } from '../contract/route-contract';
import { putPreferencesSchema } from './preference-schemas';

const preferencesView = named(
  'Preferences',
  z
    .object({
      userId: z.string(),
      timezone: z
        .string()
        .nullable()
        .meta({ description: 'Quiet hours follow it (UTC when the user has none)' }),
      rules: z.array(
        z.object({
          channel: z.string(),
          category: z.string(),
          enabled: z.boolean(),
          source: z.string(),
          updatedAt: timestamp,
        }),
      ),
      quietHours: z
        .object({
          start: z.string(),
          end: z.string(),
          categories: z
            .array(z.string())
            .nullable()
            .meta({ description: 'Only these are held; null: every non-critical one' }),
        })
        .nullable(),
      app: z.object({
        categoryDefaults: categoryDefaultsSchema,
        criticalCategories: z.array(z.string()),
      }),
    })
    .meta({
      examples: [
        {
          userId: 'alice',
          timezone: 'Europe/Lisbon',
          rules: [
            {
              channel: 'email',
              category: 'marketing',
              enabled: false,
              source: 'api',
              updatedAt: '2026-01-02T03:04:05.000Z',
            },
            {
              channel: '*',
              category: 'orders',
              enabled: true,
              source: 'user',
              updatedAt: '2026-01-03T09:15:00.000Z',
            },
          ],
          quietHours: { start: '22:00', end: '07:00', categories: null },
          app: { categoryDefaults: { marketing: 'opt_in' }, criticalCategories: ['security'] },
        },
      ],
    }),
);

const userParams = z.object({ userId: userIdParam });

/** A user's preference rules and quiet hours. */
export const preferencesRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/users/{userId}/preferences',
    summary:
      'A user’s preference rules, quiet hours, and the app’s category defaults (server keys, or a client key for the signed-in user)',
    auth: 'app',
    params: userParams,
    answers: { 200: { description: 'The preferences', body: preferencesView } },
  },
  {
    method: 'put',
    path: '/v1/users/{userId}/preferences',
    summary:
      'Set listed rules (enabled:null forgets one; unlisted rules stay) and/or replace quiet hours (null removes them)',
    auth: 'app',
    params: userParams,
    body: named('PutPreferences', putPreferencesSchema),
    bodyExample: {
      rules: [
        { channel: 'email', category: 'marketing', enabled: false },
        { channel: 'sms', enabled: null },
      ],
      quietHours: { start: '22:00', end: '07:00' },
    },
    answers: { 200: { description: 'The preferences after the change', body: preferencesView } },
    errors: { 422: '`critical_category`: turning off a category the app marks critical' },
  },
];
