import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { APP_KEY_FORMAT, hashSecret, newAppKey, newAppSecret, secretMatches } from './key-material';
import { type KeyListing, KeyRepository, type StoredKey } from './key-repository';

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
  row: StoredKey | null;
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

  constructor(private readonly repo: KeyRepository) {}

  async create(appId: string, kind: 'server' | 'client', name = ''): Promise<CreatedKey> {
    const key = { keyId: newId(), appId, kind, appKey: newAppKey(kind), appSecret: newAppSecret(), name };
    await this.repo.insert({
      id: key.keyId,
      appId,
      kind,
      name,
      appKey: key.appKey,
      secretHash: hashSecret(key.appSecret),
    });
    return key;
  }

  async verify(appKey: string, appSecret: string): Promise<VerifiedKey | null> {
    // Garbage (a NUL PostgreSQL cannot even compare, 10 KB of text) costs no query and no cache entry.
    if (!APP_KEY_FORMAT.test(appKey)) return null;
    let cached = this.cache.get(appKey);
    if (!cached || cached.expires < Date.now()) {
      cached = { row: await this.repo.byAppKey(appKey), expires: Date.now() + KeyService.CACHE_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(appKey, cached);
    }
    const row = cached.row;
    if (!row || row.revokedAt !== null || !secretMatches(appSecret, row.secretHash)) return null;
    return { keyId: row.id, appId: row.appId, kind: row.kind };
  }

  async list(appId: string): Promise<KeyListing[]> {
    return this.repo.list(appId);
  }

  async revoke(appId: string, keyId: string): Promise<boolean> {
    const appKey = await this.repo.revoke(appId, keyId);
    if (appKey === null) return false;
    this.cache.delete(appKey);
    return true;
  }

  /** A new secret for the same appKey; the old secret stops working at once. */
  async rotate(appId: string, keyId: string): Promise<CreatedKey | null> {
    const appSecret = newAppSecret();
    const row = await this.repo.replaceSecret(appId, keyId, hashSecret(appSecret));
    if (!row) return null;
    this.cache.delete(row.appKey);
    return { keyId, appId, kind: row.kind, appKey: row.appKey, appSecret, name: row.name };
  }
}
