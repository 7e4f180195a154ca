import type { Logger } from '@nestjs/common';
import { PeriodicTask } from '../common/periodic-task';
import type { RelaySource } from './relay-source';

/**
 * One relay source on its own timer. Each source has a lane of its own so that a slow one (the
 * queue reconciler checking 50,000 rows after Redis lost its data) cannot hold back another (due
 * scheduled notifications, escalation steps, digests) — which is when the late ones matter most.
 * PeriodicTask keeps a lane from overlapping itself (a tick that finds its pass still running is
 * skipped) and makes shutdown wait for the pass in progress.
 */
export class RelayLane extends PeriodicTask {
  constructor(
    readonly source: RelaySource,
    private readonly everyMs: number,
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {
    super();
  }

  protected intervalMs(): number {
    return this.everyMs;
  }

  protected pass(): Promise<unknown> {
    return this.runOnce();
  }

  /**
   * One pass of this source; resolves how many it re-added, or undefined when it failed (logged:
   * PostgreSQL or Redis away, the next pass tries again) or its previous pass is still running.
   * Never rejects: a timer's pass has no one to report to.
   */
  runOnce(): Promise<number | undefined> {
    return this.exclusive<number | undefined>(async () => {
      try {
        const readded = await this.source.run(this.graceMs);
        if (readded > 0) this.log.log(`re-added ${readded} ${this.source.name}`);
        return readded;
      } catch (error) {
        this.log.warn(`${this.source.name}: ${(error as Error).message} (the next pass tries again)`);
        return undefined;
      }
    }, undefined);
  }
}
