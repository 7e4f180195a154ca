import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../database/rows';

/** Per-app provider settings in PostgreSQL, stored sealed (the caller seals and opens). */
@Injectable()
export class IntegrationRepository {
  constructor(private readonly db: DataSource) {}

  async upsert(appId: string, plugin: string, sealedConfig: string): Promise<void> {
    await this.db.query(
      `INSERT INTO integrations (app_id, plugin, config_encrypted) VALUES ($1, $2, $3)
       ON CONFLICT (app_id, plugin) DO UPDATE SET config_encrypted = EXCLUDED.config_encrypted, updated_at = now()`,
      [appId, plugin, sealedConfig],
    );
  }

  async delete(appId: string, plugin: string): Promise<boolean> {
    const deleted = await rows(
      this.db,
      'DELETE FROM integrations WHERE app_id = $1 AND plugin = $2 RETURNING plugin',
      [appId, plugin],
    );
    return deleted.length > 0;
  }

  async sealedConfig(appId: string, plugin: string): Promise<string | null> {
    const [row] = await rows<{ config_encrypted: string }>(
      this.db,
      'SELECT config_encrypted FROM integrations WHERE app_id = $1 AND plugin = $2',
      [appId, plugin],
    );
    return row?.config_encrypted ?? null;
  }
}
