import { createTestDatabase } from '@clarion/testkit';
import { Client } from 'pg';
import { runMigrations } from '../database/data-source';

/** A migrated database of its own and one connection to it, for a plan test. */
export interface PlanDatabase {
  url: string;
  c: Client;
  close(): Promise<void>;
}

export async function planDatabase(label: string): Promise<PlanDatabase> {
  const db = await createTestDatabase(label);
  await runMigrations(db.url);
  const c = new Client({ connectionString: db.url });
  await c.connect();
  return {
    url: db.url,
    c,
    async close() {
      await c.end();
      await db.drop();
    },
  };
}

/** The part of an `EXPLAIN (ANALYZE, FORMAT JSON)` node the plan tests read. */
export interface PlanNode {
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** The executed plan of `sql` with `params`. */
export async function explainAnalyze(c: Client, sql: string, params: unknown[]): Promise<PlanNode> {
  const res = await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  return (res.rows[0]['QUERY PLAN'] as [{ Plan: PlanNode }])[0].Plan;
}

/**
 * Rows the plan's scans of tables (or their indexes) named `prefix…` looked at, kept or filtered
 * out, over all their loops: what a query reads, not what it returns.
 */
export function rowsExamined(node: PlanNode, prefix: string): number {
  const name = node['Relation Name'] ?? node['Index Name'] ?? '';
  const own = name.startsWith(prefix)
    ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1)
    : 0;
  return own + (node.Plans ?? []).reduce((n, child) => n + rowsExamined(child, prefix), 0);
}

/**
 * How many times the plan's scans of tables (or their indexes) named `prefix…` ran: for a
 * partitioned table, each partition probed once per outer row counts once.
 */
export function scansRun(node: PlanNode, prefix: string): number {
  const name = node['Relation Name'] ?? node['Index Name'] ?? '';
  const own = name.startsWith(prefix) ? (node['Actual Loops'] ?? 0) : 0;
  return own + (node.Plans ?? []).reduce((n, child) => n + scansRun(child, prefix), 0);
}
