import { z } from 'zod';
import type { RouteContract } from '../contract/route-contract';

const pluginList = z
  .object({
    plugins: z.array(
      z.object({
        name: z.string(),
        package: z.string(),
        channel: z.string(),
        version: z.string(),
        sdkRange: z.string(),
        health: z.enum(['healthy', 'unhealthy', 'unknown']),
        reason: z.string().optional(),
        warnings: z.array(z.string()),
      }),
    ),
  })
  .meta({
    examples: [
      {
        plugins: [
          {
            name: 'fcm',
            package: '@clarion/plugin-fcm',
            channel: 'push',
            version: '0.1.0',
            sdkRange: '^0.1.0',
            health: 'healthy',
            warnings: [],
          },
          {
            name: 'twilio',
            package: '@clarion/plugin-twilio',
            channel: 'sms',
            version: '0.1.0',
            sdkRange: '^0.1.0',
            health: 'unhealthy',
            reason: 'Twilio 20003: Authenticate',
            warnings: [],
          },
        ],
      },
    ],
  });

/** The loaded plugins, for operators (admin token) and for server keys. */
export const pluginsRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/plugins',
    summary: 'The loaded plugins, as `/admin/plugins` lists them, for a server key (client keys: 403)',
    description:
      'Which channels and providers this server sends with, their versions and health (`unknown` on an API-only process).',
    auth: 'app',
    answers: { 200: { description: 'Plugins', body: pluginList } },
  },
  {
    method: 'get',
    path: '/admin/plugins',
    summary: 'The loaded plugins: name, package, channel, version, SDK range, health',
    description:
      '`health` is `healthy` or `unhealthy` for the plugins this process sends with, `unknown` on an API-only process.',
    auth: 'admin',
    answers: {
      200: {
        description: 'Plugins',
        body: pluginList,
      },
    },
  },
];
