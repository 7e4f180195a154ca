import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { DigestCloser } from '../digest/digest-closer';
import { DueNotifications } from './due-notifications';
import { DueSteps } from './due-steps';
import { OrphanedFanouts } from './orphaned-fanouts';
import { PendingDeliveries } from './pending-deliveries';
import { QueueReconciler } from './queue-reconciler';
import { type RelaySettings, relaySettings } from './relay-settings';
import type { RelaySource } from './relay-source';

/**
 * PostgreSQL holds the truth, Redis the queues: the relay re-adds from PostgreSQL what should be
 * on a queue and may not be — due scheduled notifications, `queued` deliveries whose job Redis
 * lost, deliveries left `pending`, fan-outs without a job — and closes digests whose window passed.
 * One periodic task in each worker, each source a small query run at its own interval
 * (relay-settings.ts). Every re-add is idempotent (job id = delivery or notification id), so a
 * pass run twice, or by two processes, is harmless (a digest's message: its eventId).
 */
@Injectable()
export class Relay extends PeriodicTask {
  private readonly log = new Logger('relay');
  private readonly settings: RelaySettings;
  /** Each source with how many ticks apart it runs. */
  private readonly sources: { source: RelaySource; everyTicks: number }[];
  private ticks = 0;

  constructor(
    @Inject(ENV) env: Env,
    due: DueNotifications,
    lost: QueueReconciler,
    pending: PendingDeliveries,
    fanouts: OrphanedFanouts,
    steps: DueSteps,
    digests: DigestCloser,
  ) {
    super();
    this.settings = relaySettings(env);
    const tickMs = this.intervalMs();
    const every = (ms: number) => Math.max(1, Math.round(ms / tickMs));
    this.sources = [
      { source: due, everyTicks: every(this.settings.dueEveryMs) },
      // Escalation steps wait like scheduled notifications: checked as often.
      { source: steps, everyTicks: every(this.settings.dueEveryMs) },
      // Digests whose window has passed send their one message, as due as scheduled notifications.
      { source: digests, everyTicks: every(this.settings.dueEveryMs) },
      // Lost jobs first: a Redis that lost them leaves `queued` deliveries with none.
      { source: lost, everyTicks: every(this.settings.sweepEveryMs) },
      { source: pending, everyTicks: every(this.settings.sweepEveryMs) },
      { source: fanouts, everyTicks: every(this.settings.sweepEveryMs) },
    ];
  }

  protected intervalMs(): number {
    return Math.min(this.settings.sweepEveryMs, this.settings.dueEveryMs);
  }

  protected pass(): Promise<unknown> {
    return this.runOnce();
  }

  /**
   * One pass over the sources due at this tick (every source with `all`); returns what each
   * re-added. A source that fails (PostgreSQL or Redis away) is logged and tried next time; the
   * others still run.
   */
  runOnce(all = false): Promise<Record<string, number>> {
    return this.exclusive(async () => {
      const tick = this.ticks++;
      const counts: Record<string, number> = {};
      for (const { source, everyTicks } of this.sources) {
        if (!all && tick % everyTicks !== 0) continue;
        try {
          counts[source.name] = await source.run(this.settings.graceMs);
        } catch (error) {
          this.log.warn(`${source.name}: ${(error as Error).message} (the next pass tries again)`);
        }
      }
      const moved = Object.entries(counts).filter(([, n]) => n > 0);
      if (moved.length > 0) this.log.log(`re-added ${moved.map(([name, n]) => `${n} ${name}`).join(', ')}`);
      return counts;
    }, {});
  }
}
