import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import { AppsService } from './apps/apps.service';
import { IntegrationsService } from './apps/integrations.service';
import { KeyService } from './apps/key.service';
import { SecretBox } from './apps/secret-box';
import { AdminGuard } from './auth/admin.guard';
import { ApiKeyGuard } from './auth/api-key.guard';
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
import { OutcomeRouter } from './delivery/outcome-router';
import { QueueRegistry } from './delivery/queue-registry';
import { DeliveriesController } from './delivery/redrive/deliveries.controller';
import { RedriveService } from './delivery/redrive/redrive.service';
import { StatusWriter } from './delivery/status-writer';
import { DigestCloser } from './digest/digest-closer';
import { DigestJoiner } from './digest/digest-joiner';
import { DigestRepository } from './digest/digest-repository';
import { EngagementListener } from './escalation/engagement-listener';
import { StepSettler } from './escalation/step-settler';
import { FanoutProcessor } from './fanout/fanout.processor';
import { FanoutQueue } from './fanout/fanout-queue';
import { FanoutRepository } from './fanout/fanout-repository';
import { FanoutWorker } from './fanout/fanout-worker';
import { IdempotencyGuard } from './idempotency/idempotency.guard';
import { IdempotencyPurger } from './idempotency/idempotency-purger';
import { inboxWiring } from './inbox/inbox.wiring';
import { AcceptPipeline } from './ingest/accept-pipeline';
import { NotificationStore } from './ingest/notification-store';
import { PlanContextService } from './ingest/plan-context.service';
import { UserCaps } from './ingest/user-caps';
import { DeliveryMetrics } from './metrics/delivery-metrics';
import { NotificationBatchService } from './notifications/notification-batch.service';
import { NotificationReader } from './notifications/notification-reader';
import { NotificationsController } from './notifications/notifications.controller';
import { NotificationsService } from './notifications/notifications.service';
import { AdminController } from './ops/admin.controller';
import { HealthController } from './ops/health.controller';
import { logSerializers } from './ops/log-serializers';
import { MetricsController } from './ops/metrics.controller';
import { PluginInfoMetric } from './ops/plugin-info-metric';
import { PluginsController } from './ops/plugins.controller';
import { QueueMetrics } from './ops/queue-metrics';
import { RedisMetrics } from './ops/redis-metrics';
import { REDACTED_PATHS } from './ops/request-logger';
import { ShutdownState } from './ops/shutdown-state';
import type { PluginRegistry } from './plugins/plugin-registry';
import { PluginRegistry as PluginRegistryClass } from './plugins/plugin-registry';
import { PreferenceCentreController } from './preference-centre/preference-centre.controller';
import { PreferenceCentreLinkController } from './preference-centre/preference-centre-link.controller';
import { PreferencesController } from './preferences/preferences.controller';
import { PreferencesService } from './preferences/preferences.service';
import { ApiQuota } from './ratelimits/api-quota';
import { ClientSmsBudget } from './ratelimits/client-sms-budget';
import { RedisModule } from './redis/redis.module';
import { DueNotifications } from './relay/due-notifications';
import { DueSteps } from './relay/due-steps';
import { OrphanedFanouts } from './relay/orphaned-fanouts';
import { PendingDeliveries } from './relay/pending-deliveries';
import { QueueReconciler } from './relay/queue-reconciler';
import { Relay } from './relay/relay';
import { repositories } from './repositories';
import { CancelController } from './scheduling/cancel.controller';
import { NotificationCanceler } from './scheduling/notification-canceler';
import { SchedulingMetrics } from './scheduling/scheduling-metrics';
import { TemplateMetrics } from './templates/template-metrics';
import { TemplateResolver } from './templates/template-resolver';
import { TemplatesController } from './templates/templates.controller';
import { TemplatesService } from './templates/templates.service';
import { trackingWiring } from './tracking/tracking.wiring';
import { UnsubscribeController } from './unsubscribe/unsubscribe.controller';
import { unsubscribeProviders } from './unsubscribe/unsubscribe.providers';
import { PluginWorkers } from './workers/plugin-workers';

/** The accept pipeline with the real stores and queues behind its ports (unit tests give it fakes). */
const acceptPipeline: Provider = {
  provide: AcceptPipeline,
  inject: [
    ENV,
    RecipientLoader,
    PlanContextService,
    UserCaps,
    ClientSmsBudget,
    NotificationStore,
    Enqueuer,
    FanoutQueue,
    DeliveryMetrics,
    DigestJoiner,
    PluginRegistryClass,
  ],
  useFactory: (
    env: Env,
    recipients: RecipientLoader,
    contexts: PlanContextService,
    caps: UserCaps,
    smsBudget: ClientSmsBudget,
    store: NotificationStore,
    enqueuer: Enqueuer,
    fanouts: FanoutQueue,
    metrics: DeliveryMetrics,
    digests: DigestJoiner,
    plugins: PluginRegistry,
  ) =>
    new AcceptPipeline({
      recipients,
      contexts,
      caps,
      smsBudget,
      store,
      enqueuer,
      fanouts,
      metrics,
      fanoutThreshold: env.CLARION_FANOUT_THRESHOLD,
      digests,
      batchable: (plugin) =>
        (env.CLARION_PLUGIN_RATE_LIMITS[plugin] ?? plugins.get(plugin)?.processor?.limiter) === undefined,
    }),
};

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
    const inbox = inboxWiring({ api });
    const core: Provider[] = [
      { provide: ENV, useValue: env },
      { provide: METRICS_REGISTRY, useValue: registry },
      { provide: PluginRegistryClass, useValue: plugins },
      { provide: ShutdownState, useValue: shutdown },
      ...repositories,
      DeliveryMetrics,
      PluginInfoMetric,
      AppsService,
      { provide: SecretBox, useValue: new SecretBox(env.CLARION_ENCRYPTION_KEY) },
      KeyService,
      IntegrationsService,
      QueueRegistry,
      Enqueuer,
      FanoutQueue,
      NotificationStore,
      ClientSmsBudget,
      acceptPipeline,
      DigestRepository,
      DigestJoiner,
      // In every role: a reconcile pass can be run by hand in any process (its test uses an API-only one).
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
      // Both roles: engagement is recorded by either (tracking in the API, outcomes in the worker).
      StepSettler,
      EngagementListener,
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
        ...inbox.controllers,
        ...(api ? [UnsubscribeController, PreferenceCentreController] : []),
      ],
      providers: [
        ...core,
        ...(api
          ? [
              ApiKeyGuard,
              AdminGuard,
              NotificationsService,
              NotificationBatchService,
              NotificationReader,
              UsersService,
              NotificationCanceler,
              TemplatesService,
              ApiQuota,
              PreferencesService,
              RedriveService,
              IdempotencyGuard,
            ]
          : []),
        ...(worker
          ? [
              PluginWorkers,
              DueNotifications,
              DigestCloser,
              DueSteps,
              PendingDeliveries,
              OrphanedFanouts,
              Relay,
              FanoutRepository,
              FanoutProcessor,
              FanoutWorker,
              EventIdPurger,
              IdempotencyPurger,
              OutcomeRouter,
            ]
          : []),
        ...tracking.providers,
        ...inbox.providers,
      ],
    };
  }
}
