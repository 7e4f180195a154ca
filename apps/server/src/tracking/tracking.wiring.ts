import type { Provider, Type } from '@nestjs/common';
import { PartitionStatistics } from '../deliveries/partition-statistics';
import { DeliveryPartitions } from '../deliveries/partitions';
import { UpgradeCatchUp } from '../deliveries/upgrade-catch-up';
import { LinkTracking } from '../ingest/link-tracking.service';
import { PluginCallbacksController } from './callbacks/plugin-callbacks.controller';
import { ClientEventsController } from './client-events.controller';
import { Retention } from './retention';
import { StatsController } from './stats.controller';
import { StatsService } from './stats.service';
import { StatsDimsRollup } from './stats-dims-rollup';
import { TrackingLinksController } from './tracking-links.controller';
import { TrackingMetrics } from './tracking-metrics';
import { TrackingRecorder } from './tracking-recorder';
import { UserDeliveriesController } from './user-deliveries.controller';
import { StatusWebhookDispatcher } from './webhooks/status-webhook-dispatcher';
import { StatusWebhookWorker } from './webhooks/status-webhook-worker';
import { StatusWebhooksController } from './webhooks/status-webhooks.controller';
import { StatusWebhooks } from './webhooks/status-webhooks.service';

/** What the tracking domain adds to the app module, by role (api: HTTP endpoints; worker: webhook posts, retention). */
export function trackingWiring(role: { api: boolean; worker: boolean }): {
  controllers: Type[];
  providers: Provider[];
} {
  return {
    controllers: role.api
      ? [
          PluginCallbacksController,
          TrackingLinksController,
          ClientEventsController,
          UserDeliveriesController,
          StatsController,
          StatusWebhooksController,
        ]
      : [],
    providers: [
      // Both roles: the planner rewrites links; steps recorded in either role reach status webhooks.
      LinkTracking,
      TrackingMetrics,
      StatusWebhooks,
      StatusWebhookDispatcher,
      // Both roles write deliveries: each keeps the day partitions a week ahead (idempotent).
      DeliveryPartitions,
      // Both roles: plans made on today's near-empty partitions are made again as they fill.
      PartitionStatistics,
      ...(role.api ? [TrackingRecorder, StatsService] : []),
      ...(role.worker ? [StatusWebhookWorker, Retention, StatsDimsRollup, UpgradeCatchUp] : []),
    ],
  };
}
