import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rows } from '../database/rows';
import type { ChannelContents } from './notification-request';
import type { TemplateChecks } from './template-checks';

/** One published version as the API shows it. */
export interface TemplateVersionRecord {
  key: string;
  version: number;
  latestVersion: number;
  description: string | null;
  defaultLocale: string | null;
  content: ChannelContents;
  locales: Record<string, ChannelContents>;
  checks: TemplateChecks;
  createdAt: string;
  archivedAt: string | null;
}

/** The mutable head of a template: which version is latest, whether it is archived. */
export interface TemplateHead {
  latestVersion: number;
  archived: boolean;
}

export interface NewVersion {
  description: string | null;
  defaultLocale: string | null;
  content: ChannelContents;
  locales: Record<string, ChannelContents>;
  checks: TemplateChecks;
}

const SELECT = `
  SELECT v.key, v.version, t.latest_version AS "latestVersion", v.description, v.default_locale AS "defaultLocale",
         v.content, v.locales, v.checks, v.created_at AS "createdAt", t.archived_at AS "archivedAt"
    FROM templates t JOIN template_versions v ON v.app_id = t.app_id AND v.key = t.key`;

/** Templates in PostgreSQL. Versions are immutable once written; only the head row changes. */
@Injectable()
export class TemplateRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Publishes the next version. The head row's upsert takes its row lock, so concurrent
   * publishes of one key get consecutive versions. Publishing an archived key restores it.
   */
  async publish(appId: string, key: string, input: NewVersion): Promise<TemplateVersionRecord> {
    return this.db.transaction(async (tx) => {
      const [head] = await rows<{ latest_version: number }>(
        tx,
        `INSERT INTO templates (app_id, key, latest_version) VALUES ($1, $2, 1)
         ON CONFLICT (app_id, key) DO UPDATE SET latest_version = templates.latest_version + 1, archived_at = NULL, updated_at = now()
         RETURNING latest_version`,
        [appId, key],
      );
      const version = head!.latest_version;
      const [row] = await rows<{ created_at: Date }>(
        tx,
        `INSERT INTO template_versions (app_id, key, version, description, default_locale, content, locales, checks)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING created_at`,
        [
          appId,
          key,
          version,
          input.description,
          input.defaultLocale,
          JSON.stringify(input.content),
          JSON.stringify(input.locales),
          JSON.stringify(input.checks),
        ],
      );
      return {
        key,
        version,
        latestVersion: version,
        ...input,
        createdAt: row!.created_at.toISOString(),
        archivedAt: null,
      };
    });
  }

  async head(appId: string, key: string): Promise<TemplateHead | null> {
    const [row] = await rows<{ latest_version: number; archived: boolean }>(
      this.db,
      'SELECT latest_version, archived_at IS NOT NULL AS archived FROM templates WHERE app_id = $1 AND key = $2',
      [appId, key],
    );
    return row ? { latestVersion: row.latest_version, archived: row.archived } : null;
  }

  /** One version (the latest when `version` is null), archived or not. */
  async version(appId: string, key: string, version: number | null): Promise<TemplateVersionRecord | null> {
    const [row] = await rows<TemplateVersionRecord>(
      this.db,
      `${SELECT} WHERE t.app_id = $1 AND t.key = $2 AND v.version = COALESCE($3::int, t.latest_version)`,
      [appId, key, version],
    );
    return row ? normalize(row) : null;
  }

  /** Latest version of each template, by key, paged by key. */
  async list(
    appId: string,
    includeArchived: boolean,
    after: string | null,
    limit: number,
  ): Promise<TemplateVersionRecord[]> {
    const found = await rows<TemplateVersionRecord>(
      this.db,
      `${SELECT} AND v.version = t.latest_version
        WHERE t.app_id = $1 AND ($2::boolean OR t.archived_at IS NULL) AND ($3::text IS NULL OR t.key > $3::text)
        ORDER BY t.key LIMIT $4`,
      [appId, includeArchived, after, limit],
    );
    return found.map(normalize);
  }

  /** Archives a template; false when there is no such key. Archiving twice keeps the first time. */
  async archive(appId: string, key: string): Promise<boolean> {
    const updated = await rows(
      this.db,
      `UPDATE templates SET archived_at = COALESCE(archived_at, now()), updated_at = now() WHERE app_id = $1 AND key = $2 RETURNING key`,
      [appId, key],
    );
    return updated.length > 0;
  }
}

function normalize(row: TemplateVersionRecord): TemplateVersionRecord {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : (v as string | null));
  return { ...row, createdAt: iso(row.createdAt)!, archivedAt: iso(row.archivedAt) };
}
