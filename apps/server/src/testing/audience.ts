import { seedTopicAudience } from './db';
import { type Harness, startHarness, type TestApp } from './harness';

/**
 * A harness (`label`, `env`, `role`) and an app whose topic `topic` (default `all`) has `users`
 * subscribers named `<prefix><n>`, each reached by webhook at the sandbox.
 */
export async function withAudience(options: {
  label: string;
  users: number;
  prefix: string;
  topic?: string;
  env?: Record<string, string>;
  role?: NonNullable<Parameters<typeof startHarness>[0]>['role'];
}): Promise<{ h: Harness; app: TestApp }> {
  const h = await startHarness({
    label: options.label,
    ...(options.env ? { env: options.env } : {}),
    ...(options.role ? { role: options.role } : {}),
  });
  const app = await h.createApp();
  await seedTopicAudience(h.db.url, {
    appId: app.id,
    topic: options.topic ?? 'all',
    users: options.users,
    prefix: options.prefix,
    webhookBase: `${h.sandbox.url}/webhook/`,
  });
  return { h, app };
}
