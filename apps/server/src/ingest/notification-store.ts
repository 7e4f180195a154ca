import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { Batcher } from '../database/batcher';
import type { Queryable } from '../database/prepared';
import { isItemError } from '../database/refused-value';
import type { DeliveryPlan } from '../deliveries/delivery-plan';
import {
  claimEventIds,
  findEventIds,
  insertNotifications,
  insertWaitingSteps,
  type NotificationRow,
  type SerializedDelivery,
  type SerializedNotification,
  serializeDeliveries,
  serializeNotification,
  type WaitingStep,
} from '../deliveries/delivery-store';

/** A notification as the request path hands it over: its row, its deliveries, and its body's hash for eventId repeats. */
export interface NotificationRecord extends NotificationRow {
  status: 'accepted' | 'fanout' | 'scheduled';
  bodyHash: string;
  plans: DeliveryPlan[];
  /** The later steps of an escalating notification (`steps`), written in its transaction. */
  steps?: WaitingStep[];
}

/** A record as it joins a batch: its JSON already made, so building the statement cannot fail on it. */
interface PreparedRecord extends SerializedNotification {
  bodyHash: string;
  deliveries: SerializedDelivery[];
  steps: WaitingStep[];
}

function prepare({ plans, steps = [], ...record }: NotificationRecord): PreparedRecord {
  return {
    ...serializeNotification(record),
    steps,
    deliveries: serializeDeliveries(
      plans.map((plan) => ({ plan, notificationId: record.id, appId: record.appId })),
    ),
  };
}

export type StoreResult =
  | { outcome: 'created' }
  | { outcome: 'duplicate'; notificationId: string; bodyHash: string };

/**
 * Writes notifications and their deliveries with group commit: concurrent requests share one
 * statement (PostgreSQL commits ~1,400 single-row transactions a second here, but ~33,000 rows
 * a second in batches), one round trip when no eventId is given. Event ids are claimed in a
 * transaction with that statement, so a repeat — even one racing in another API process — finds
 * the first notification and writes nothing.
 */
@Injectable()
export class NotificationStore {
  private readonly batcher: Batcher<PreparedRecord, StoreResult>;

  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {
    // A value PostgreSQL refuses (or a user deleted meanwhile), or one the statement could not be
    // built with, fails its own request, not the 399 beside it.
    this.batcher = new Batcher((items) => this.flush(items), {
      maxItems: 400,
      maxWaitMs: 2,
      concurrency: 4,
      isolate: isItemError,
    });
  }

  save(record: NotificationRecord): Promise<StoreResult> {
    let prepared: PreparedRecord;
    try {
      prepared = prepare(record);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.batcher.submit(prepared);
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private async flush(items: PreparedRecord[]): Promise<StoreResult[]> {
    // No eventId to claim nor steps to add: one statement, atomic on its own (no BEGIN/COMMIT round trips).
    if (items.every((r) => r.eventId === null && r.steps.length === 0)) {
      await write(this.db, items);
      return items.map(() => ({ outcome: 'created' }));
    }
    const results: (StoreResult | undefined)[] = new Array(items.length);
    const losers: number[] = [];
    await this.db.transaction(async (tx) => {
      // One claim per (app, eventId) per statement: ON CONFLICT DO UPDATE may not touch a row twice;
      // later repeats in the same batch simply lose, like repeats in another batch. Claimed in one
      // global order (app, eventId): two API processes' batches sharing eventIds then wait for each
      // other instead of deadlocking (a deadlock would fail a whole batch with 500).
      const firstOfKey = new Map<string, PreparedRecord>();
      for (const r of items) {
        const key = `${r.appId}\u0000${r.eventId}`;
        if (r.eventId !== null && !firstOfKey.has(key)) firstOfKey.set(key, r);
      }
      const withEvent = [...firstOfKey.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, r]) => r);
      // A claim older than the dedup window no longer counts: the new notification takes it over
      // (the purger deletes old claims too, but the window must hold whatever its schedule).
      const claimed = await claimEventIds(
        tx,
        withEvent.map((r) => ({
          appId: r.appId,
          eventId: r.eventId!,
          notificationId: r.id,
          bodyHash: r.bodyHash,
        })),
        this.env.CLARION_DEDUP_WINDOW_HOURS,
      );
      const winners = items.filter((r, i) => {
        const won = r.eventId === null || claimed.has(r.id);
        if (won) results[i] = { outcome: 'created' };
        else losers.push(i);
        return won;
      });
      await write(tx, winners);
      if (losers.length === 0) return;
      // Inside the transaction: a flush that fails has written nothing, so the batcher may run it
      // again in parts (`isolate`). It sees this batch's own claims and the committed ones.
      const found = await findEventIds(
        tx,
        losers.map((i) => ({ appId: items[i]!.appId, eventId: items[i]!.eventId! })),
      );
      for (const i of losers) {
        const item = items[i]!;
        const row = found.find((r) => r.appId === item.appId && r.eventId === item.eventId);
        results[i] = row
          ? { outcome: 'duplicate', notificationId: row.notificationId, bodyHash: row.bodyHash }
          : { outcome: 'duplicate', notificationId: '', bodyHash: '' };
      }
    });
    return results as StoreResult[];
  }
}

/** The notifications and all their deliveries in one statement; then their later steps (same transaction). */
async function write(q: Queryable, records: PreparedRecord[]): Promise<void> {
  await insertNotifications(
    q,
    records,
    records.flatMap((r) => r.deliveries),
  );
  await insertWaitingSteps(
    q,
    records.flatMap((r) => r.steps),
  );
}
