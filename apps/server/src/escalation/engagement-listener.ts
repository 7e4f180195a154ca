import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type RecordedStep, StepRecorded } from '../deliveries/step-recorded';
import { ENGAGEMENTS } from '../templates/escalation-steps';
import { StepSettler } from './step-settler';

const ENGAGING: ReadonlySet<string> = new Set(ENGAGEMENTS);

/**
 * Settles waiting escalation steps the moment their user engages: a `delivered`, `opened` or
 * `clicked` step recorded anywhere (a provider callback, a tracked link, an inbox read) looks at
 * that notification's waiting steps, and those whose `unless` it meets are skipped now. Listeners
 * must not block the writer: notification ids are gathered and settled by one loop at a time.
 * Only a shortcut: a step missed here (the process died, PostgreSQL blinked) is still judged by
 * the same rule when it falls due.
 */
@Injectable()
export class EngagementListener implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('escalation');
  private readonly heard = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly steps: StepRecorded,
    private readonly settler: StepSettler,
  ) {}

  onModuleInit(): void {
    this.steps.on((steps) => this.hear(steps));
  }

  private hear(steps: RecordedStep[]): void {
    for (const s of steps) if (ENGAGING.has(s.step)) this.heard.add(s.notificationId);
    if (this.heard.size > 0 && !this.running)
      this.running = this.drain().finally(() => (this.running = undefined));
  }

  /** Settles until nothing new was heard meanwhile (batches of what arrived during the previous one). */
  private async drain(): Promise<void> {
    while (this.heard.size > 0) {
      const ids = [...this.heard].slice(0, 500);
      for (const id of ids) this.heard.delete(id);
      try {
        await this.settler.settleEngaged(ids);
      } catch (error) {
        this.log.warn(
          `settling engaged steps failed: ${(error as Error).message} (they are judged again when due)`,
        );
      }
    }
  }

  /** Lets a settle in progress finish before the database connection closes. */
  async onApplicationShutdown(): Promise<void> {
    this.heard.clear();
    await this.running;
  }
}
