import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { newId } from '../common/ids';
import { rows as queryRows } from '../database/rows';
import { APP_KEY_FORMAT, hashSecret, newAppKey, newAppSecret, secretMatches } from './key-material';

export interface VerifiedKey {
  keyId: string;
  appId: string;
  kind: 'server' | 'client';
}

export interface CreatedKey extends VerifiedKey {
  appKey: string;
  /** Shown once; only its hash is stored. */
  appSecret: string;
  name: string;
}

interface CachedKey {
  row: {
    id: string;
    app_id: string;
    kind: 'server' | 'client';
    secret_hash: string;
    revoked_at: Date | null;
  } | null;
  expires: number;
}

/**
 * Issues, verifies, rotates and revokes API keys. Verification is on every request, so rows are
 * cached briefly; a revoke clears this process's cache at once and others' within CACHE_MS.
 */
@Injectable()
export class KeyService {
  static readonly CACHE_MS = 5_000;
  private readonly cache = new Map<string, CachedKey>();

  constructor(private readonly db: DataSource) {}

  async create(appId: string, kind: 'server' | 'client', name = ''): Promise<CreatedKey> {
    const key = { keyId: newId(), appId, kind, appKey: newAppKey(kind), appSecret: newAppSecret(), name };
    await this.db.query(
      'INSERT INTO api_keys (id, app_id, kind, name, app_key, secret_hash) VALUES ($1, $2, $3, $4, $5, $6)',
      [key.keyId, appId, kind, name, key.appKey, hashSecret(key.appSecret)],
    );
    return key;
  }

  async verify(appKey: string, appSecret: string): Promise<VerifiedKey | null> {
    // Garbage (a NUL PostgreSQL cannot even compare, 10 KB of text) costs no query and no cache entry.
    if (!APP_KEY_FORMAT.test(appKey)) return null;
    let cached = this.cache.get(appKey);
    if (!cached || cached.expires < Date.now()) {
      const rows: CachedKey['row'][] = await this.db.query(
        'SELECT id, app_id, kind, secret_hash, revoked_at FROM api_keys WHERE app_key = $1',
        [appKey],
      );
      cached = { row: rows[0] ?? null, expires: Date.now() + KeyService.CACHE_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(appKey, cached);
    }
    const row = cached.row;
    if (!row || row.revoked_at !== null || !secretMatches(appSecret, row.secret_hash)) return null;
    return { keyId: row.id, appId: row.app_id, kind: row.kind };
  }

  async list(appId: string) {
    return this.db.query(
      'SELECT id, kind, name, app_key AS "appKey", created_at AS "createdAt", revoked_at AS "revokedAt" FROM api_keys WHERE app_id = $1 ORDER BY created_at',
      [appId],
    );
  }

  async revoke(appId: string, keyId: string): Promise<boolean> {
    const rows = await queryRows<{ app_key: string }>(
      this.db,
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING app_key',
      [keyId, appId],
    );
    for (const r of rows) this.cache.delete(r.app_key);
    return rows.length > 0;
  }

  /** A new secret for the same appKey; the old secret stops working at once. */
  async rotate(appId: string, keyId: string): Promise<CreatedKey | null> {
    const appSecret = newAppSecret();
    const rows = await queryRows<{ app_key: string; kind: 'server' | 'client'; name: string }>(
      this.db,
      'UPDATE api_keys SET secret_hash = $3 WHERE id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING app_key, kind, name',
      [keyId, appId, hashSecret(appSecret)],
    );
    const row = rows[0];
    if (!row) return null;
    this.cache.delete(row.app_key);
    return { keyId, appId, kind: row.kind, appKey: row.app_key, appSecret, name: row.name };
  }
}
