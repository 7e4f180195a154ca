import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ErrorFilter } from './common/error-filter';
import { type Env, migrateOnStart } from './config/env';
import { runMigrations } from './database/data-source';
import { setupOpenApi } from './ops/openapi';
import { createMetricsRegistry, httpDurationHistogram } from './ops/metrics-registry';
import { loadPlugins } from './plugins/plugin-loader';
import { PluginRegistry } from './plugins/plugin-registry';
import { registerFormBody } from './unsubscribe/form-body';

export interface StartOptions {
  env: Env;
  /** Sandbox mode: per-plugin config pointing at the fakes. */
  sandboxConfigs?: Record<string, Record<string, unknown>>;
  processEnv?: NodeJS.ProcessEnv;
}

/** Builds and starts the server for the configured role. Returns the app (tests close it). */
export async function startServer({ env, sandboxConfigs, processEnv = process.env }: StartOptions): Promise<NestFastifyApplication> {
  // Plugins first: a wrong provider setting must stop the process before anything listens.
  const plugins = new PluginRegistry(
    loadPlugins({ requested: env.CLARION_PLUGINS, pluginPath: env.CLARION_PLUGIN_PATH, env: processEnv, ...(sandboxConfigs ? { sandboxConfigs } : {}) }),
  );
  if (migrateOnStart(env)) await runMigrations(env.DATABASE_URL);
  const registry = createMetricsRegistry(env.CLARION_ROLE);
  const adapter = new FastifyAdapter({ bodyLimit: 5 * 1024 * 1024, trustProxy: true });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ env, registry, plugins }), adapter, {
    bufferLogs: true,
    bodyParser: false, // ours below: same limits, but an empty JSON body is "no body"
  });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new ErrorFilter());
  app.enableShutdownHooks();
  const http = httpDurationHistogram(registry);
  const fastify = app.getHttpAdapter().getInstance();
  // An empty body sent with content-type JSON (many HTTP clients do that on DELETE) is "no body", not a 400.
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  registerFormBody(fastify);
  fastify.addHook('onResponse', async (request, reply) => {
    http.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  setupOpenApi(app);
  await app.listen({ port: env.PORT, host: env.HOST });
  return app;
}
