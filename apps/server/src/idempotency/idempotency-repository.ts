import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';

/**
 * A running request that left its marker longer ago than this is taken to have died with its
 * process (a crash, a kill): the key may run again rather than be refused until it expires.
 */
const ABANDONED_AFTER_S = 300;

export type Claim =
  | { kind: 'run' }
  | { kind: 'replay'; status: number; body: unknown }
  | { kind: 'in_progress' }
  | { kind: 'reused' };

/** Idempotency keys in PostgreSQL (`idempotency_keys`): claim a key, record its answer, or let it go. */
@Injectable()
export class IdempotencyRepository {
  constructor(
    private readonly db: DataSource,
    @Inject(ENV) private readonly env: Env,
  ) {}

  /**
   * One statement decides: the insert (or the take-over of an expired or abandoned row) wins for
   * exactly one of any number of concurrent requests; the others read the row that is there.
   */
  async claim(scope: string, key: string, hash: string): Promise<Claim> {
    const won: unknown[] = await this.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, expires_at)
       VALUES ($1, $2, $3, now() + $4::float8 * interval '1 hour')
       ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, body = NULL,
              created_at = now(), expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= now()
           OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - $5::int * interval '1 second')
       RETURNING 1`,
      [scope, key, hash, this.env.CLARION_IDEMPOTENCY_WINDOW_HOURS, ABANDONED_AFTER_S],
    );
    if (won.length > 0) return { kind: 'run' };
    const [row]: { request_hash: string; status: number | null; body: unknown }[] = await this.db.query(
      'SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [scope, key],
    );
    // Gone between the two statements (purged, or its request failed and let it go): ask again.
    if (!row) return this.claim(scope, key, hash);
    if (row.request_hash !== hash) return { kind: 'reused' };
    if (row.status === null) return { kind: 'in_progress' };
    return { kind: 'replay', status: row.status, body: row.body };
  }

  async finish(scope: string, key: string, status: number, body: unknown): Promise<void> {
    await this.db.query('UPDATE idempotency_keys SET status = $3, body = $4 WHERE scope = $1 AND key = $2', [
      scope,
      key,
      status,
      body === undefined ? null : JSON.stringify(body),
    ]);
  }

  /** The request failed on the server's side: the same key may be tried again. */
  async release(scope: string, key: string): Promise<void> {
    await this.db.query('DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL', [
      scope,
      key,
    ]);
  }
}
