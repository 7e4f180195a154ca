import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import type { AuthContext } from '../apps/auth-context';
import { ApiError } from '../common/api-error';
import { DomainError } from '../common/errors/domain-error';
import { domainErrorAnswer } from '../common/errors/error-answer';
import { isDatabaseUnavailable } from '../common/unavailable';
import { validate } from '../common/validate';
import type { RequestBatches } from '../ingest/accept-pipeline';
import { PluginRegistry } from '../plugins/plugin-registry';
import { ApiQuota } from '../ratelimits/api-quota';
import type { BatchItemResult } from './batch-request';
import { assertServerEventId } from './client-send-policy';
import { NotificationsService } from './notifications.service';
import { notificationRequestSchemaFor } from './request-schemas';

/**
 * Items in flight at once. Each one's reads and writes already join the shared group-commit
 * batchers, so this only bounds the memory and Redis/PostgreSQL queue of one batch request.
 */
const ITEMS_IN_FLIGHT = 200;

/**
 * `POST /v1/notifications/batch`: every item goes through the single request's path
 * (NotificationsService.accept) on its own, so dedup, preferences, caps, templates and the API
 * quota apply per item, and each item is stored, or refused with nothing stored, independently.
 * Items sharing an eventId run one after the other in request order, so the first is the one
 * accepted and the later ones are its repeats (200) or conflicts (409). The items' deliveries due
 * now travel in batch jobs shared across items (AcceptPipeline.requestBatches), added once every
 * item is stored: a thousand notifications cost their queues tens of jobs, not a thousand.
 */
@Injectable()
export class NotificationBatchService {
  private readonly log = new Logger('batch');

  constructor(
    private readonly single: NotificationsService,
    private readonly quota: ApiQuota,
    private readonly plugins: PluginRegistry,
  ) {}

  async accept(app: AppRecord, auth: AuthContext, items: unknown[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = new Array(items.length);
    const batches = this.single.requestBatches();
    const lastOfEvent = new Map<string, Promise<unknown>>();
    const run = (index: number): Promise<void> => {
      const item = items[index];
      const eventId = eventIdOf(item);
      const previous = eventId === undefined ? undefined : lastOfEvent.get(eventId);
      const done = (previous ?? Promise.resolve()).then(async () => {
        results[index] = await this.acceptOne(app, auth, item, index, batches);
      });
      if (eventId !== undefined) lastOfEvent.set(eventId, done);
      return done;
    };
    let next = 0;
    const lane = async () => {
      while (next < items.length) await run(next++);
    };
    await Promise.all(Array.from({ length: Math.min(ITEMS_IN_FLIGHT, items.length) }, lane));
    await batches.enqueue();
    return results;
  }

  private async acceptOne(
    app: AppRecord,
    auth: AuthContext,
    item: unknown,
    index: number,
    batches: RequestBatches,
  ): Promise<BatchItemResult> {
    try {
      const request = validate(
        notificationRequestSchemaFor(this.plugins),
        item,
        `body.notifications.${index}`,
      );
      assertServerEventId(request.eventId);
      await this.quota.enforceItem(auth, app.settings);
      const { status, body } = await this.single.accept(app, request, false, batches);
      const { id, status: state, ...counts } = body;
      return { status, id, state, ...counts };
    } catch (error) {
      return failure(error, this.log);
    }
  }
}

/** The eventId an item names, read before validation so repeats keep their order even when invalid. */
function eventIdOf(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || !('eventId' in item)) return undefined;
  return typeof item.eventId === 'string' ? item.eventId : undefined;
}

/** An item's error in the shape a single request's answer has; the batch itself still answers. */
function failure(error: unknown, log: Logger): BatchItemResult {
  if (error instanceof DomainError) {
    const { status, body } = domainErrorAnswer(error);
    return { status, error: body.error };
  }
  if (error instanceof ApiError) {
    const body = error.getResponse() as { error: { code: string; message: string; details?: unknown } };
    return { status: error.getStatus(), error: body.error };
  }
  if (error instanceof HttpException && error.getStatus() < 500)
    return {
      status: error.getStatus(),
      error: { code: 'invalid_request', message: error.message, details: [] },
    };
  if (isDatabaseUnavailable(error))
    return {
      status: 503,
      error: {
        code: 'unavailable',
        message: 'the database is unavailable right now; nothing was stored, retry later',
        details: [],
      },
    };
  log.error(error);
  return { status: 500, error: { code: 'internal', message: 'internal error', details: [] } };
}
