import { Injectable } from '@nestjs/common';
import type { AppRecord } from '../apps/apps.service';
import { AcceptPipeline, type AcceptResult, type RequestBatches } from '../ingest/accept-pipeline';
import type { NotificationRequest } from '../templates/notification-request';

export type { AcceptResult } from '../ingest/accept-pipeline';

/**
 * The request path (single and batch route): the accept pipeline run whole. Recipients are
 * resolved, planned, stored (group commit, event id claimed in the same transaction), answered,
 * then enqueued; large audiences are stored as one notification and expanded by a fan-out job.
 */
@Injectable()
export class NotificationsService {
  constructor(private readonly pipeline: AcceptPipeline) {}

  /**
   * `clientSent`: sent with a client key (links untracked, SMS budgeted, no other request's id
   * answered). `batches`: the batch jobs of the bulk request this notification is an item of.
   */
  accept(
    app: AppRecord,
    request: NotificationRequest,
    clientSent = false,
    batches?: RequestBatches,
  ): Promise<AcceptResult> {
    return this.pipeline.accept(app, request, clientSent, batches);
  }

  /** Batch jobs for the items of one bulk request (AcceptPipeline.requestBatches). */
  requestBatches(): RequestBatches {
    return this.pipeline.requestBatches();
  }
}
