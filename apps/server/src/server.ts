import 'reflect-metadata';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { AppRepository } from './apps/app-repository';
import { registerCors } from './auth/cors';
import { ErrorFilter } from './common/error-filter';
import { onClientError, onFrameworkError } from './common/framework-errors';
import { logFieldsOf } from './common/request-log-fields';
import { registerTextGuard } from './common/text-guard';
import { type Env, migrateOnStart, shutdownDrainMs } from './config/env';
import { runMigrations } from './database/data-source';
import { useNamedStatements } from './database/prepared';
import { recordIdempotentAnswers } from './idempotency/idempotency-answers';
import { IdempotencyRepository } from './idempotency/idempotency-repository';
import { loadedInboxPlugin } from './inbox/inbox-plugin';
import { stopGracefullyOnSignals } from './ops/graceful-stop';
import { createMetricsRegistry, httpDurationHistogram } from './ops/metrics-registry';
import { serveMetrics } from './ops/metrics-server';
import { setupOpenApi } from './ops/openapi';
import { requestId } from './ops/request-id';
import { loggablePath, QUIET_PATHS, requestLogger } from './ops/request-logger';
import { ShutdownState } from './ops/shutdown-state';
import { logLoadedPlugins } from './plugins/plugin-listing';
import { loadPlugins } from './plugins/plugin-loader';
import { PluginRegistry } from './plugins/plugin-registry';
import { withSettingsDir } from './plugins/settings-dir';
import { keepRawBody, registerFormParser } from './tracking/callbacks/raw-body';

export interface StartOptions {
  env: Env;
  /** Sandbox mode: per-plugin config pointing at the fakes. */
  sandboxConfigs?: Record<string, Record<string, unknown>>;
  processEnv?: NodeJS.ProcessEnv;
  /**
   * Whether SIGTERM and SIGINT stop the app (readiness fails, the drain window, close, exit 0).
   * Dev mode handles them itself: it must stop its PostgreSQL and Redis after the app.
   */
  handleSignals?: boolean;
}

/** The plugins this process sends with: none for the API, a worker pool's own, or every loaded one. */
function pluginsRun(env: Env): 'all' | string[] {
  if (env.CLARION_ROLE === 'api') return [];
  return env.CLARION_WORKER_PLUGINS.length > 0 ? env.CLARION_WORKER_PLUGINS : 'all';
}

/** Builds and starts the server for the configured role. Returns the app (tests close it). */
export async function startServer({
  env,
  sandboxConfigs,
  processEnv = process.env,
  handleSignals = true,
}: StartOptions): Promise<NestFastifyApplication> {
  // Plugins first: a wrong provider setting must stop the process before anything listens.
  const plugins = new PluginRegistry(
    [
      ...loadPlugins({
        requested: env.CLARION_PLUGINS,
        pluginPath: env.CLARION_PLUGIN_PATH,
        env: withSettingsDir(processEnv, env.CLARION_PLUGIN_SETTINGS_DIR),
        runs: pluginsRun(env),
        ...(sandboxConfigs ? { sandboxConfigs } : {}),
      }),
      // The in-app inbox is a core channel served by the server's own database.
      loadedInboxPlugin(env),
    ],
    env.CLARION_PROVIDERS,
  );
  if (migrateOnStart(env)) await runMigrations(env.DATABASE_URL);
  const registry = createMetricsRegistry(env.CLARION_ROLE);
  const adapter = new FastifyAdapter({
    bodyLimit: 5 * 1024 * 1024,
    trustProxy: env.CLARION_TRUST_PROXY,
    // Ids and template keys up to 256 characters reach validation (a 400 naming the rule), not the router's 414.
    routerOptions: { maxParamLength: 1024 },
    // Bad URLs, over-long parameters and requests Node's parser refuses get the documented error shape too.
    frameworkErrors: onFrameworkError,
    clientErrorHandler: onClientError,
    loggerInstance: requestLogger(env),
    genReqId: requestId,
    // One line per request, written below with what the handler added (not Fastify's two).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
  });
  const shutdown = new ShutdownState();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ env, registry, plugins, shutdown }),
    adapter,
    {
      bufferLogs: true,
      bodyParser: false, // ours below: same limits, but an empty JSON body is "no body"
    },
  );
  // Before any lifecycle hook runs a query: workers and periodic tasks start in them.
  useNamedStatements(app.get(DataSource), env.CLARION_DATABASE_PREPARED_STATEMENTS);
  app.useLogger(app.get(Logger));
  logLoadedPlugins(plugins);
  app.useGlobalFilters(new ErrorFilter());
  if (handleSignals) stopGracefullyOnSignals({ app, state: shutdown, drainMs: shutdownDrainMs(env) });
  const http = httpDurationHistogram(registry);
  const fastify = app.getHttpAdapter().getInstance();
  // An empty body sent with content-type JSON (many HTTP clients do that on DELETE) is "no body", not a 400.
  // A JSON Merge Patch (PATCH …/settings) is JSON too.
  fastify.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = String(body);
      keepRawBody(_request, text); // signed provider callbacks verify the exact bytes
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        // Where the parser stopped, like every other invalid input: a path-level entry in `details`.
        const details = [{ path: 'body', message: (error as Error).message }];
        done(Object.assign(new Error('body is not valid JSON'), { statusCode: 400, details }), undefined);
      }
    },
  );
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // JSON and forms only: any other body is a 415 rather than a string handed to validation.
  fastify.removeContentTypeParser('text/plain');
  // One parser for form posts: provider callbacks need the raw body for their signatures; unsubscribe posts just the fields.
  registerFormParser(fastify);
  registerTextGuard(fastify);
  registerCors(fastify, () => app.get(AppRepository));
  recordIdempotentAnswers(fastify, () => app.get(IdempotencyRepository));
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    // Probes and scrapes are neither API traffic nor worth a log line.
    if (QUIET_PATHS.has(route)) return;
    http.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    request.log.info(
      {
        method: request.method,
        url: loggablePath(request.url, request.routeOptions.url),
        route,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime),
        ...logFieldsOf(reply.raw),
      },
      'request completed',
    );
  });
  setupOpenApi(app, plugins);
  let metricsServer: Server | undefined;
  fastify.addHook('onClose', async () => {
    metricsServer?.close();
  });
  await app.listen({ port: env.PORT, host: env.HOST });
  if (env.CLARION_METRICS_PORT !== undefined)
    metricsServer = await serveMetrics(registry, env.HOST, env.CLARION_METRICS_PORT);
  return app;
}
