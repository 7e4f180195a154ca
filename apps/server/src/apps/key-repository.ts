import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../database/rows';

export type KeyKind = 'server' | 'client';

/** What verifying a key needs. */
export interface StoredKey {
  id: string;
  appId: string;
  kind: KeyKind;
  secretHash: string;
  revokedAt: Date | null;
}

/** A key as the admin API lists it (never its secret). */
export interface KeyListing {
  id: string;
  kind: KeyKind;
  name: string;
  appKey: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** API keys in PostgreSQL (only a hash of each secret). */
@Injectable()
export class KeyRepository {
  constructor(private readonly db: DataSource) {}

  async insert(key: {
    id: string;
    appId: string;
    kind: KeyKind;
    name: string;
    appKey: string;
    secretHash: string;
  }): Promise<void> {
    await this.db.query(
      'INSERT INTO api_keys (id, app_id, kind, name, app_key, secret_hash) VALUES ($1, $2, $3, $4, $5, $6)',
      [key.id, key.appId, key.kind, key.name, key.appKey, key.secretHash],
    );
  }

  async byAppKey(appKey: string): Promise<StoredKey | null> {
    const [row] = await rows<{
      id: string;
      app_id: string;
      kind: KeyKind;
      secret_hash: string;
      revoked_at: Date | null;
    }>(this.db, 'SELECT id, app_id, kind, secret_hash, revoked_at FROM api_keys WHERE app_key = $1', [
      appKey,
    ]);
    return row
      ? {
          id: row.id,
          appId: row.app_id,
          kind: row.kind,
          secretHash: row.secret_hash,
          revokedAt: row.revoked_at,
        }
      : null;
  }

  async list(appId: string): Promise<KeyListing[]> {
    return rows<KeyListing>(
      this.db,
      'SELECT id, kind, name, app_key AS "appKey", created_at AS "createdAt", revoked_at AS "revokedAt" FROM api_keys WHERE app_id = $1 ORDER BY created_at',
      [appId],
    );
  }

  /** The revoked key's appKey, or null when there is no such live key. */
  async revoke(appId: string, keyId: string): Promise<string | null> {
    const [row] = await rows<{ app_key: string }>(
      this.db,
      'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING app_key',
      [keyId, appId],
    );
    return row?.app_key ?? null;
  }

  /** Stores a new secret hash for a live key; null when there is no such live key. */
  async replaceSecret(
    appId: string,
    keyId: string,
    secretHash: string,
  ): Promise<{ appKey: string; kind: KeyKind; name: string } | null> {
    const [row] = await rows<{ app_key: string; kind: KeyKind; name: string }>(
      this.db,
      'UPDATE api_keys SET secret_hash = $3 WHERE id = $1 AND app_id = $2 AND revoked_at IS NULL RETURNING app_key, kind, name',
      [keyId, appId, secretHash],
    );
    return row ? { appKey: row.app_key, kind: row.kind, name: row.name } : null;
  }
}
