import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppsService } from '../apps/apps.service';
import { DomainError } from '../common/errors/domain-error';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { AcceptPipeline } from '../ingest/accept-pipeline';
import { DIGEST_ITEMS_LIMIT, digestMessage } from './digest-message';
import { type ClaimedDigest, DigestRepository } from './digest-repository';

const BATCH = 50;

/** A promise that never settles: the test-only stall (CLARION_TEST_DIGEST_STALL) waits on it to be killed. */
const forever = () => new Promise<never>(() => undefined);

/**
 * Closes digests whose window has passed (a relay source, run by every worker): claims them
 * (SKIP LOCKED, so one worker each), accepts their one message through the accept pipeline, marks
 * them sent. The message's eventId is the digest's (`digest:<id>`): a worker that dies after the
 * claim leaves the digest `closing`, another claims it once the claim is older than the relay's
 * grace (CLARION_SWEEP_AFTER_MS), and if the first had already accepted the message the second
 * is answered "duplicate" with its id — one message either way.
 */
@Injectable()
export class DigestCloser {
  readonly name = 'closed digests';
  private readonly log = new Logger('digest');

  constructor(
    private readonly repository: DigestRepository,
    private readonly pipeline: AcceptPipeline,
    private readonly apps: AppsService,
    @Inject(ENV) private readonly env: Env,
  ) {}

  async run(graceMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const claimed = await this.repository.claimDue(graceMs, BATCH);
      if (claimed.length > 0 && this.env.CLARION_TEST_DIGEST_STALL === 'after-claim') await forever();
      for (const digest of claimed) {
        try {
          if (await this.close(digest)) total++;
        } catch (error) {
          // PostgreSQL or Redis away: it stays `closing` and is claimed again after the grace.
          this.log.warn(`digest ${digest.id}: ${(error as Error).message} (tried again later)`);
        }
      }
      if (claimed.length < BATCH) return total;
    }
  }

  /** Sends one claimed digest's message; false when there was nothing left to send. */
  private async close(digest: ClaimedDigest): Promise<boolean> {
    const items = await this.repository.items(digest.id, DIGEST_ITEMS_LIMIT);
    // Items are deleted when a digest is sent: another closer finished it meanwhile.
    if (items.count === 0) return false;
    const app = await this.apps.get(digest.appId);
    if (!app) {
      await this.repository.markFailed(digest.id, 'the app no longer exists');
      return false;
    }
    const request = digestMessage(digest.id, digest.request, items);
    let notificationId: string;
    try {
      notificationId = (await this.pipeline.accept(app, request, digest.clientSent)).body.id;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const first = (error.details as { notificationId?: string } | undefined)?.notificationId;
      if (error.code === 'event_id_conflict' && first) notificationId = first;
      else {
        // Refused for good (a template that no longer renders, an archived one, a spent budget).
        this.log.warn(`digest ${digest.id}: not sent: ${error.code}: ${error.message}`);
        await this.repository.markFailed(digest.id, `${error.code}: ${error.message}`);
        return false;
      }
    }
    if (this.env.CLARION_TEST_DIGEST_STALL === 'after-accept') await forever();
    await this.repository.markSent(digest.id, notificationId);
    return true;
  }
}
