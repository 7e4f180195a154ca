import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { uuidv7Floor } from '../common/ids';
import { PeriodicTask } from '../common/periodic-task';
import { tryTransactionLock } from '../database/advisory-lock';
import { catchUpPage, HOT_STATUS_CATCH_UP, pendingCatchUp, saveCatchUp } from './store/catch-up';

/** One process at a time walks (any number of worker pods run this). */
const LOCK_KEY = 7_400_014;
const MINUTE_MS = 60_000;
/** A rolling upgrade's old pods are gone by then: the first walk waits this long after the migration. */
const FIRST_WALK_AFTER_MS = 10 * MINUTE_MS;
/** A walk that starts this long after the migration is the last (a slow rollout is covered by it). */
const LAST_WALK_AFTER_MS = 60 * MINUTE_MS;
/** Deliveries made this long before the migration are walked too (their retries and callbacks meanwhile). */
const LOOK_BACK_MS = 24 * 60 * MINUTE_MS;
const PAGE = 5_000;
/** Pages per pass: a long walk goes on at the next pass, each page its own short transaction. */
const PAGES_PER_PASS = 1_000;

/**
 * After migration 1765200000014, pods of the previous version keep writing until a rolling
 * upgrade replaces them, without keeping `unsettled_deliveries` or `provider_messages`: a
 * delivery they queued or failed would be missing from the relay's and the redrive list's table,
 * a provider id they recorded would not find its delivery when the provider calls back. This
 * task walks the deliveries made from a day before the migration on, twice (from 10 minutes
 * after it and again from an hour after it) and writes what the current code would have written,
 * then marks the catch-up done and never runs again. Each page locks its rows, so it races no
 * writer. Deliveries made earlier than a day before the migration and moved by an old pod are
 * not walked (a retry or a callback of a delivery that old during the few minutes of a rollout).
 */
@Injectable()
export class UpgradeCatchUp extends PeriodicTask {
  private readonly log = new Logger('upgrade-catch-up');

  constructor(private readonly db: DataSource) {
    super();
  }

  protected intervalMs(): number {
    return 5 * MINUTE_MS;
  }

  protected pass(): Promise<unknown> {
    return this.exclusive(
      () =>
        this.run().catch((error: Error) =>
          this.log.warn(`catching up after the upgrade failed: ${error.message}`),
        ),
      undefined,
    );
  }

  /** Up to PAGES_PER_PASS pages; answers whether the catch-up is done (or was never needed). */
  async run(now = new Date()): Promise<boolean> {
    for (let page = 0; page < PAGES_PER_PASS; page += 1) {
      const step = await this.db.transaction(async (tx) => {
        if (!(await tryTransactionLock(tx, LOCK_KEY))) return 'busy' as const;
        const state = await pendingCatchUp(tx, HOT_STATUS_CATCH_UP);
        if (!state) return 'done' as const;
        const since = state.since.getTime();
        // A new walk: the first from FIRST_WALK_AFTER_MS on, the last from LAST_WALK_AFTER_MS on.
        const due = since + (state.walks === 0 ? FIRST_WALK_AFTER_MS : LAST_WALK_AFTER_MS);
        if (state.walkStarted === null && now.getTime() < due) return 'wait' as const;
        const walkStarted = state.walkStarted ?? now;
        const from = state.cursor ?? uuidv7Floor(new Date(since - LOOK_BACK_MS));
        const { last, fixed, providerIds } = await catchUpPage(tx, from, uuidv7Floor(walkStarted), PAGE);
        if (fixed + providerIds > 0)
          this.log.warn(
            `wrote ${fixed} unsettled rows and ${providerIds} provider ids the previous version left out`,
          );
        if (last !== null) {
          await saveCatchUp(tx, HOT_STATUS_CATCH_UP, {
            walkStarted,
            cursor: last,
            walks: state.walks,
            done: false,
          });
          return 'more' as const;
        }
        const final = walkStarted.getTime() >= since + LAST_WALK_AFTER_MS;
        await saveCatchUp(tx, HOT_STATUS_CATCH_UP, {
          walkStarted: null,
          cursor: null,
          walks: state.walks + 1,
          done: final,
        });
        if (final) this.log.log('caught up after the upgrade: deliveries of the rollout walked twice');
        return final ? ('done' as const) : ('wait' as const);
      });
      if (step !== 'more') return step === 'done';
    }
    return false;
  }
}
