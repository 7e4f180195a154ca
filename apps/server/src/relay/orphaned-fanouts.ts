import type { Priority } from '@clarion/plugin-sdk';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FanoutQueue } from '../fanout/fanout-queue';
import type { RelaySource } from './relay-source';

/**
 * Notifications still `fanout` after the grace period whose job may be gone (Redis was down at
 * accept, lost its data, or trimmed a job that failed all its attempts). The job is added again
 * (job id = notification id: one already there stays the one job) and resumes from its cursor.
 */
/** Fan-outs older than the grace period $1 (ms), which may have lost their job (index `notifications_in_progress`). */
export const ORPHANED_FANOUTS_SQL = `SELECT id, app_id, send_at, priority FROM notifications WHERE status = 'fanout'
        AND created_at < now() - ($1 || ' milliseconds')::interval LIMIT 100`;

@Injectable()
export class OrphanedFanouts implements RelaySource {
  readonly name = 'fan-outs';

  constructor(
    private readonly db: DataSource,
    private readonly fanouts: FanoutQueue,
  ) {}

  async run(graceMs: number): Promise<number> {
    const rows: { id: string; app_id: string; send_at: Date | null; priority: Priority }[] =
      await this.db.query(ORPHANED_FANOUTS_SQL, [String(graceMs)]);
    let readded = 0;
    for (const f of rows) {
      try {
        await this.fanouts.start(
          f.id,
          f.app_id,
          f.priority,
          f.send_at ? f.send_at.getTime() - Date.now() : 0,
        );
        readded++;
      } catch {
        break; // Redis still away
      }
    }
    return readded;
  }
}
