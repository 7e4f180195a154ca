import { z } from 'zod';
import type { RouteContract } from '../contract/route-contract';

/** Operator view of the loaded plugins. */
export const pluginsRoutes: RouteContract[] = [
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
        body: z.object({
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
        }),
      },
    },
  },
];
