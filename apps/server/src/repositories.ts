import type { Provider } from '@nestjs/common';
import { AppRepository } from './apps/app-repository';
import { IntegrationRepository } from './apps/integration-repository';
import { KeyRepository } from './apps/key-repository';
import { UserRepository } from './contacts/user-repository';
import { DeliveryQueries } from './deliveries/delivery-queries';
import { IdempotencyRepository } from './idempotency/idempotency-repository';
import { NotificationRepository } from './notifications/notification-repository';
import { PreferenceRepository } from './preferences/preference-repository';
import { TemplateRepository } from './templates/template-repository';
import { StatsRepository } from './tracking/stats-repository';
import { StatusWebhookRepository } from './tracking/webhooks/status-webhook-repository';

/** Every repository (the only place SQL lives outside the delivery store, relay and migrations); both roles. */
export const repositories: Provider[] = [
  AppRepository,
  KeyRepository,
  IntegrationRepository,
  UserRepository,
  PreferenceRepository,
  TemplateRepository,
  NotificationRepository,
  DeliveryQueries,
  StatsRepository,
  StatusWebhookRepository,
  IdempotencyRepository,
];
