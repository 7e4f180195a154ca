import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type components, createClarionClient } from '@clarion/client';
import { pluginEnvName } from '@clarion/plugin-sdk';
import { type Fake, Sandbox, webhookFake } from '@clarion/sandbox';
import {
  clearPrefix,
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
} from '@clarion/testkit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Env, loadEnv } from '../config/env';
import { startServer } from '../server';
import { checkAnswersFrom } from './checked-fetch';
import { contractFetch } from './contract-check';

type CreateAppBody = components['schemas']['CreateApp'];

export const WEBHOOK_SECRET = 'harness-webhook-secret-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface Harness {
  url: string;
  sandbox: Sandbox;
  db: TestDatabase;
  prefix: string;
  env: Env;
  /** Environment for child processes (`clarion start`) sharing this database, Redis prefix and sandbox. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  app: NestFastifyApplication | undefined;
  /** Points `url`, `admin` and `createApp` at a server this test spawned (role 'none'). */
  useApi(url: string): void;
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Creates an app, returns its server credentials and user-token secret. */
  createApp(settings?: Record<string, unknown>): Promise<TestApp>;
  close(): Promise<void>;
}

export interface TestApp {
  id: string;
  appKey: string;
  appSecret: string;
  userTokenSecret: string;
  /** fetch with this app's Basic auth and JSON. */
  call(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
  ): Promise<Response>;
}

/** The plugins' own variables (`CLARION_<PLUGIN>_<KEY>`) for the sandbox's plugin settings. */
export function pluginEnvOf(configs: Record<string, Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(configs).flatMap(([name, config]) =>
      Object.entries(config).map(([key, value]) => [pluginEnvName(name, key), String(value)]),
    ),
  );
}

export function basic(appKey: string, appSecret: string): string {
  return `Basic ${Buffer.from(`${appKey}:${appSecret}`).toString('base64')}`;
}

/**
 * A real server on a fresh database, its own Redis key prefix and a sandbox with a webhook
 * receiver. `role: 'none'` starts no server in-process (tests that spawn processes).
 */
export async function startHarness(
  options: {
    role?: Env['CLARION_ROLE'] | 'none';
    env?: Record<string, string>;
    label?: string;
    /** More fake providers (twilio, smtp…); the plugins named in CLARION_PLUGINS are pointed at them. */
    fakes?: Fake[];
    /** The server reaches its fresh database through this URL instead (a proxy a test can cut). */
    databaseVia?: (url: string) => string;
    /** Runs on the fresh database before the server starts (e.g. migrations straight to PostgreSQL). */
    beforeStart?: (db: TestDatabase) => Promise<unknown>;
  } = {},
): Promise<Harness> {
  const db = await createTestDatabase(options.label ?? 'server');
  const prefix = testPrefix('srv');
  const extraFakes = options.fakes ?? [];
  const sandbox = await Sandbox.start({ fakes: [webhookFake({ secret: WEBHOOK_SECRET }), ...extraFakes] });
  const configs = sandbox.pluginConfigs();
  const sandboxConfigs = Object.fromEntries(
    extraFakes.flatMap((f) => (configs[f.name] ? [[f.name, configs[f.name]!]] : [])),
  );
  const sandboxPluginEnv = pluginEnvOf(sandboxConfigs);
  const base: Record<string, string> = {
    DATABASE_URL: options.databaseVia ? options.databaseVia(db.url) : db.url,
    REDIS_URL: TEST_REDIS_URL,
    CLARION_ADMIN_TOKEN: ADMIN_TOKEN,
    CLARION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLARION_QUEUE_PREFIX: prefix,
    CLARION_PLUGINS: '@clarion/plugin-webhook',
    CLARION_WEBHOOK_SECRET: WEBHOOK_SECRET,
    // Generous: a receiver slowed by a loaded machine must not turn into a timeout retry (a second copy).
    CLARION_WEBHOOK_TIMEOUT_MS: '30000',
    CLARION_MIGRATE_ON_START: 'true',
    // The sandbox listens on 127.0.0.1; tests of the outbound guard set this back to false.
    CLARION_OUTBOUND_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'warn',
    PORT: '0',
    HOST: '127.0.0.1',
    ...options.env,
  };
  const role = options.role ?? 'all';
  const env = loadEnv({ ...base, CLARION_ROLE: role === 'none' ? 'all' : role });
  await options.beforeStart?.(db);
  let app: NestFastifyApplication | undefined;
  let url = '';
  // Every answer from the server in use, through admin(), call() or a test's own fetch, must be
  // what the OpenAPI document declares.
  let stopChecking = () => {};
  if (role !== 'none') {
    app = await startServer({ env, processEnv: base, ...(extraFakes.length > 0 ? { sandboxConfigs } : {}) });
    const address = app.getHttpServer().address() as AddressInfo;
    url = `http://127.0.0.1:${address.port}`;
    stopChecking = checkAnswersFrom(url);
  }
  const admin = async (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
  return {
    get url() {
      return url;
    },
    useApi(next: string) {
      stopChecking();
      url = next;
      stopChecking = checkAnswersFrom(next);
    },
    sandbox,
    db,
    prefix,
    env,
    app,
    admin,
    // Child processes are stopped with SIGTERM: no drain window unless a test asks for one. They
    // reach the extra fakes as the in-process server does, through the plugins' own variables.
    childEnv: (extra = {}) => ({
      ...process.env,
      CLARION_SHUTDOWN_DRAIN_MS: '0',
      ...base,
      ...sandboxPluginEnv,
      ...extra,
    }),
    async createApp(settings = {}) {
      // Through the typed client, as an integrating team would (its answers are checked too).
      const client = createClarionClient({ baseUrl: url, adminToken: ADMIN_TOKEN, fetch: contractFetch });
      const created = await client.POST('/admin/apps', {
        body: { name: 'test app', settings: settings as CreateAppBody['settings'] },
      });
      if (!created.data)
        throw new Error(`create app: ${created.response.status} ${JSON.stringify(created.error)}`);
      const body = created.data;
      const auth = basic(body.key.appKey, body.key.appSecret);
      return {
        id: body.app.id,
        appKey: body.key.appKey,
        appSecret: body.key.appSecret,
        userTokenSecret: body.userTokenSecret,
        call: async (path, init = {}) => {
          const method = init.method ?? (init.body === undefined ? 'GET' : 'POST');
          return fetch(`${url}${path}`, {
            method,
            headers: {
              authorization: auth,
              ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
              ...init.headers,
            },
            ...(init.body !== undefined
              ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }
              : {}),
            ...(init.signal ? { signal: init.signal } : {}),
          });
        },
      };
    },
    async close() {
      stopChecking();
      // Bounded like a real process's shutdown (ops/shutdown-deadline.ts): BullMQ's Worker.close()
      // can hang on a Redis client that is still reconnecting after an outage (bullmq#4656).
      if (app) {
        const closed = await Promise.race([
          app.close().then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref()),
        ]);
        if (!closed)
          process.stderr.write(
            'harness: server close did not finish in 15 s (BullMQ worker stuck reconnecting); moving on\n',
          );
      }
      await sandbox.stop();
      const redis = testRedis();
      await clearPrefix(redis, prefix);
      redis.disconnect();
      await db.drop();
    },
  };
}

/** Reads a JSON body with a type, for terse assertions. */
export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
