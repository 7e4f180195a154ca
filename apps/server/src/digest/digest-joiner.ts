import { Injectable } from '@nestjs/common';
import { durationMs } from '../common/duration';
import { ConflictError } from '../common/errors/domain-error';
import type { AcceptResult } from '../ingest/accept-pipeline';
import type { DigestJoin, DigestPort } from '../ingest/accept-ports';
import { DeliveryMetrics } from '../metrics/delivery-metrics';
import { DigestRepository } from './digest-repository';

/**
 * The accept pipeline's digest port: a request naming `digest` is stored as a notification of
 * status `digested` (no deliveries) and joins its user's open digest, in one transaction with its
 * eventId claim. Its preferences, caps and template are applied to the digest's one message.
 */
@Injectable()
export class DigestJoiner implements DigestPort {
  constructor(
    private readonly repository: DigestRepository,
    private readonly metrics: DeliveryMetrics,
  ) {}

  async join({
    app,
    request,
    notificationId,
    bodyHash,
    templateKey,
    templateVersion,
    clientSent,
  }: DigestJoin): Promise<AcceptResult> {
    const { digest, ...messageRequest } = request;
    // The schema allows a digest only with to.userId and a valid window.
    const userId = request.to.userId!;
    const result = await this.repository.join({
      notification: {
        id: notificationId,
        appId: app.id,
        eventId: request.eventId ?? null,
        status: 'digested',
        category: request.category ?? null,
        priority: request.priority,
        request,
        sendAt: null,
        expiresAt: null,
        recipients: 1,
        templateKey,
        templateVersion,
      },
      bodyHash,
      userId,
      key: digest!.key,
      windowMs: durationMs(digest!.window)!,
      messageRequest,
      data: request.data,
      clientSent,
    });
    if (result.outcome === 'duplicate') {
      this.metrics.deduplicated.inc();
      if (result.bodyHash !== bodyHash)
        throw new ConflictError(
          'event_id_conflict',
          'this eventId was already used with a different body',
          clientSent ? undefined : { notificationId: result.notificationId },
        );
      return { status: 200, body: { id: result.notificationId, status: 'duplicate', duplicate: true } };
    }
    this.metrics.accepted.inc();
    return {
      status: 202,
      body: {
        id: notificationId,
        status: 'digested',
        digest: { id: result.digestId, closesAt: result.closesAt.toISOString() },
      },
    };
  }
}
