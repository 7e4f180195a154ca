import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { DigestCloser } from '../digest/digest-closer';
import { DueNotifications } from './due-notifications';
import { DueSteps } from './due-steps';
import { OrphanedFanouts } from './orphaned-fanouts';
import { PendingDeliveries } from './pending-deliveries';
import { QueueReconciler } from './queue-reconciler';
import { RelayLane } from './relay-lane';
import { relaySettings } from './relay-settings';
import type { RelaySource } from './relay-source';

/**
 * PostgreSQL holds the truth, Redis the queues: the relay re-adds from PostgreSQL what should be
 * on a queue and may not be — due scheduled notifications, `queued` deliveries whose job Redis
 * lost, deliveries left `pending`, fan-outs without a job — and closes digests whose window passed.
 * In each worker every source runs on a lane of its own (RelayLane: its own timer at its own
 * interval, relay-settings.ts, never two passes of one source at once), so a slow source — the
 * queue reconciler's 50,000 rows after Redis lost its data — does not make due notifications,
 * escalation steps or digests late while the system recovers. A source that fails is logged and
 * tried at its next interval; the other lanes go on.
 *
 * No source waits for another: sources used to run one after another ("lost jobs first"), but
 * nothing depended on that order. Every re-add is idempotent (job id = delivery or notification
 * id; a digest's message: its eventId), the sweeps only take rows older than the grace period, and
 * the same sources already run at the same time in every other worker process; two lanes of one
 * process running together are no different.
 */
@Injectable()
export class Relay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lanes: RelayLane[];

  constructor(
    @Inject(ENV) env: Env,
    due: DueNotifications,
    lost: QueueReconciler,
    pending: PendingDeliveries,
    fanouts: OrphanedFanouts,
    steps: DueSteps,
    digests: DigestCloser,
  ) {
    const settings = relaySettings(env);
    const log = new Logger('relay');
    const lane = (source: RelaySource, everyMs: number) =>
      new RelayLane(source, everyMs, settings.graceMs, log);
    this.lanes = [
      lane(due, settings.dueEveryMs),
      // Escalation steps wait like scheduled notifications: checked as often.
      lane(steps, settings.dueEveryMs),
      // Digests whose window has passed send their one message, as due as scheduled notifications.
      lane(digests, settings.dueEveryMs),
      // A Redis that lost its jobs leaves `queued` deliveries with none.
      lane(lost, settings.sweepEveryMs),
      lane(pending, settings.sweepEveryMs),
      lane(fanouts, settings.sweepEveryMs),
    ];
  }

  onApplicationBootstrap(): void {
    for (const lane of this.lanes) lane.onApplicationBootstrap();
  }

  /** Stops every lane's timer and waits for the passes in progress (each a few seconds at most, together). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.onApplicationShutdown()));
  }

  /**
   * Runs every source once now, each on its lane (at the same time, like their timers); resolves
   * what each re-added. A source that failed, or whose lane is still in a pass, is left out.
   */
  async runOnce(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    await Promise.all(
      this.lanes.map(async (lane) => {
        const readded = await lane.runOnce();
        if (readded !== undefined) counts[lane.source.name] = readded;
      }),
    );
    return counts;
  }
}
