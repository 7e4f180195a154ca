import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Cluster } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import { AdminController } from './apps/admin.controller';
import { AppsService } from './apps/apps.service';
import { IntegrationsService } from './apps/integrations.service';
import { SecretBox } from './apps/secret-box';
import { AdminGuard } from './auth/admin.guard';
import { ApiKeyGuard } from './auth/api-key.guard';
import { KeyService } from './auth/key.service';
import type { Env } from './config/env';
import { ENV, METRICS_REGISTRY } from './config/tokens';
import { RecipientLoader } from './contacts/recipient-loader';
import { UsersController } from './contacts/users.controller';
import { UsersService } from './contacts/users.service';
import { MIGRATIONS } from './database/data-source';
import { EventIdPurger } from './dedup/event-id-purger';
import { StepMetrics } from './deliveries/step-metrics';
import { StepRecorded } from './deliveries/step-recorded';
import { Enqueuer } from './delivery/enqueuer';
import { FANOUT_QUEUE } from './delivery/fanout.constants';
import { FanoutProcessor } from './delivery/fanout.processor';
import { fanoutProcessorFor } from './delivery/fanout-worker';
import { OutcomeRouter } from './delivery/outcome-router';
import { PluginWorkers } from './delivery/plugin-workers';
import { QueueReconciler } from './delivery/queue-reconciler';
import { QueueRegistry } from './delivery/queue-registry';
import { DeliveriesController } from './delivery/redrive/deliveries.controller';
import { RedriveService } from './delivery/redrive/redrive.service';
import { StatusWriter } from './delivery/status-writer';
import { Sweeper } from './delivery/sweeper';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyPurger } from './idempotency/idempotency-purger';
import { NotificationStore } from './ingest/notification-store';
import { PlanContextService } from './ingest/plan-context.service';
import { NotificationBatchService } from './notifications/notification-batch.service';
import { NotificationReader } from './notifications/notification-reader';
import { NotificationsController } from './notifications/notifications.controller';
import { NotificationsService } from './notifications/notifications.service';
import { DeliveryMetrics } from './ops/delivery-metrics';
import { HealthController } from './ops/health.controller';
import { logSerializers } from './ops/log-serializers';
import { MetricsController } from './ops/metrics.controller';
import { QueueMetrics } from './ops/queue-metrics';
import { RedisMetrics } from './ops/redis-metrics';
import { REDACTED_PATHS } from './ops/request-logger';
import { ShutdownState } from './ops/shutdown-state';
import type { PluginRegistry } from './plugins/plugin-registry';
import { PluginRegistry as PluginRegistryClass } from './plugins/plugin-registry';
import { PluginsController } from './plugins/plugins.controller';
import { PreferenceCentreController } from './preference-centre/preference-centre.controller';
import { preferenceCentreProviders } from './preference-centre/preference-centre.providers';
import { PreferenceCentreLinkController } from './preference-centre/preference-centre-link.controller';
import { PreferencesController } from './preferences/preferences.controller';
import { PreferencesService } from './preferences/preferences.service';
import { ApiQuota } from './ratelimits/api-quota';
import { ClientSmsBudget } from './ratelimits/client-sms-budget';
import { UserCaps } from './ratelimits/user-caps';
import { isCluster } from './redis/client';
import { redisOptions } from './redis/connection-options';
import { KeyLayout } from './redis/key-layout';
import { RedisModule, WORKER_REDIS } from './redis/redis.module';
import { repositories } from './repositories';
import { CancelController } from './scheduling/cancel.controller';
import { DueScheduler } from './scheduling/due-scheduler';
import { NotificationCanceler } from './scheduling/notification-canceler';
import { SchedulingMetrics } from './scheduling/scheduling-metrics';
import { TemplateMetrics } from './templates/template-metrics';
import { TemplateResolver } from './templates/template-resolver';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { trackingWiring } from './tracking/tracking.wiring';
import { UnsubscribeController } from './unsubscribe/unsubscribe.controller';
import { unsubscribeProviders } from './unsubscribe/unsubscribe.providers';

export interface AppModuleOptions {
  env: Env;
  registry: Registry;
  plugins: PluginRegistry;
  /** Set on SIGTERM: readiness fails from then on. */
  shutdown?: ShutdownState;
}

/** The whole server; `CLARION_ROLE` decides which halves are wired (api: HTTP API; worker: processors). */
@Module({})
export class AppModule {
  static forRoot({
    env,
    registry,
    plugins,
    shutdown = new ShutdownState(),
  }: AppModuleOptions): DynamicModule {
    const api = env.CLARION_ROLE !== 'worker';
    const worker = env.CLARION_ROLE !== 'api';
    const tracking = trackingWiring({ api, worker });
    const core: Provider[] = [
      { provide: ENV, useValue: env },
      { provide: METRICS_REGISTRY, useValue: registry },
      { provide: PluginRegistryClass, useValue: plugins },
      { provide: ShutdownState, useValue: shutdown },
      ...repositories,
      DeliveryMetrics,
      AppsService,
      { provide: SecretBox, useValue: new SecretBox(env.CLARION_ENCRYPTION_KEY) },
      KeyService,
      IntegrationsService,
      QueueRegistry,
      Enqueuer,
      QueueReconciler,
      RecipientLoader,
      PlanContextService,
      StatusWriter,
      // Both roles: steps are recorded by the worker (outcomes) and the API (tracking, cancel).
      StepRecorded,
      StepMetrics,
      QueueMetrics,
      RedisMetrics,
      TemplateMetrics,
      TemplateResolver,
      UserCaps,
      SchedulingMetrics,
      ...unsubscribeProviders,
    ];
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: env.LOG_LEVEL,
            redact: REDACTED_PATHS,
            serializers: logSerializers,
            autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
            customProps: () => ({ role: env.CLARION_ROLE }),
          },
        }),
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: env.DATABASE_URL,
          migrations: MIGRATIONS,
          migrationsTableName: 'clarion_migrations',
          synchronize: false,
          extra: { max: env.DATABASE_POOL_SIZE, connectionTimeoutMillis: 5000 },
        }),
        RedisModule.forRoot(env),
        TerminusModule,
        ...(worker
          ? [
              isCluster(env)
                ? // ioredis takes a cluster as a client, not options: the worker connection, which
                  // BullMQ duplicates for its blocking reads.
                  BullModule.forRootAsync({
                    inject: [WORKER_REDIS],
                    useFactory: (connection: Cluster) => ({ connection }),
                  })
                : BullModule.forRoot({ connection: redisOptions(env, { maxRetriesPerRequest: null }) }),
              BullModule.registerQueue({
                name: FANOUT_QUEUE,
                prefix: new KeyLayout(env).queue(FANOUT_QUEUE),
              }),
            ]
          : []),
      ],
      controllers: [
        HealthController,
        ...(env.CLARION_METRICS_PORT === undefined ? [MetricsController] : []),
        ...(api
          ? [
              AdminController,
              PluginsController,
              UsersController,
              NotificationsController,
              CancelController,
              TemplatesController,
              PreferencesController,
              PreferenceCentreLinkController,
              DeliveriesController,
            ]
          : []),
        ...tracking.controllers,
        ...(api ? [UnsubscribeController, PreferenceCentreController] : []),
      ],
      providers: [
        ...core,
        ...(api
          ? [
              ApiKeyGuard,
              AdminGuard,
              NotificationStore,
              NotificationsService,
              NotificationBatchService,
              NotificationReader,
              UsersService,
              NotificationCanceler,
              TemplatesService,
              ApiQuota,
              ClientSmsBudget,
              PreferencesService,
              ...preferenceCentreProviders,
              RedriveService,
              { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
            ]
          : []),
        ...(worker
          ? [
              PluginWorkers,
              Sweeper,
              { provide: FanoutProcessor, useClass: fanoutProcessorFor(env) },
              DueScheduler,
              EventIdPurger,
              IdempotencyPurger,
              OutcomeRouter,
            ]
          : []),
        ...tracking.providers,
      ],
    };
  }
}
