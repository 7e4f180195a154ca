import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';

/** `name records bytes` per delivery for the first `top` entries of a WAL breakdown, comma-separated. */
export function walPerDelivery(
  entries: [string, { records: number; bytes: number }][],
  deliveries: number,
  top: number,
): string {
  const n = Math.max(1, deliveries);
  return entries
    .slice(0, top)
    .map(([name, k]) => `${name} ${(k.records / n).toFixed(2)} ${Math.round(k.bytes / n)}`)
    .join(', ');
}

/**
 * WAL bytes written for one database over a phase, read from the server's own WAL files with
 * `pg_waldump`: every record that touches a block of the database, and the commit records of
 * those transactions. The cluster-wide LSN difference counts other databases' writes too (other
 * tests on a shared server); this does not. A temporary replication slot holds the phase's WAL
 * until it is read (a busy server recycles segments within seconds). `bytes()` answers undefined
 * when the WAL is not readable here (a remote server, or a user that cannot read the data directory).
 */
export class DatabaseWalMeter {
  private constructor(
    private readonly pg: Client,
    private readonly slot: string,
    private readonly startLsn: string,
  ) {}

  static async start(pg: Client): Promise<DatabaseWalMeter | undefined> {
    try {
      const slot = `bench_wal_${randomBytes(4).toString('hex')}`;
      const { rows } = await pg.query(
        `SELECT lsn::text AS lsn FROM pg_create_physical_replication_slot($1, true, true)`,
        [slot],
      );
      const start = (
        (await pg.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows as [{ lsn: string }]
      )[0].lsn;
      return rows.length > 0 ? new DatabaseWalMeter(pg, slot, start) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The database's WAL bytes since start, and how many of them were full-page images. */
  async bytes(): Promise<
    | {
        total: number;
        pageImages: number;
        records: number;
        byRelation: [string, number][];
        byKind: [string, { records: number; bytes: number }][];
        byRelationKind: [string, { records: number; bytes: number }][];
      }
    | undefined
  > {
    try {
      const q = async (text: string) => ((await this.pg.query(text)).rows as [Record<string, string>])[0];
      const { lsn: endLsn } = await q(`SELECT pg_current_wal_lsn()::text AS lsn`);
      const { dir } = await q(`SELECT current_setting('data_directory') AS dir`);
      const { oid } = await q(`SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()`);
      const { major } = await q(`SELECT (current_setting('server_version_num')::int / 10000)::text AS major`);
      const waldump = `/usr/lib/postgresql/${major}/bin/pg_waldump`;
      const walDir = join(String(dir), 'pg_wal');
      if (!existsSync(waldump) || !existsSync(walDir)) return undefined;
      const out = spawnSync(waldump, ['-p', walDir, '-s', this.startLsn, '-e', String(endLsn)], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
      if (!out.stdout) return undefined;
      const ours = new Set<string>();
      const rel = new RegExp(`rel \\d+/${oid}/(\\d+)`);
      const perNode = new Map<string, number>();
      // By record kind ("Heap/INSERT", "Btree/INSERT_LEAF", "Transaction/COMMIT"): what each write costs.
      const perKind = new Map<string, { records: number; bytes: number }>();
      // By table or index and kind: which write of which relation costs what.
      const perNodeKind = new Map<string, { records: number; bytes: number }>();
      const add = (map: Map<string, { records: number; bytes: number }>, key: string, total: number) => {
        const seen = map.get(key) ?? { records: 0, bytes: 0 };
        map.set(key, { records: seen.records + 1, bytes: seen.bytes + total });
      };
      const kindOf = (line: string) => {
        const k = /rmgr: (\w+)\s.*desc: (\w+)/.exec(line);
        return k ? `${k[1]}/${k[2]}` : 'other';
      };
      let bytes = 0;
      let pageImages = 0;
      let records = 0;
      for (const line of out.stdout.split('\n')) {
        const m = /len \(rec\/tot\):\s*(\d+)\/\s*(\d+), tx:\s*(\d+)/.exec(line);
        if (!m) continue;
        const [, record, total, tx] = m;
        const r = rel.exec(line);
        if (r) {
          if (tx !== '0') ours.add(tx!);
          perNode.set(r[1]!, (perNode.get(r[1]!) ?? 0) + Number(total));
          bytes += Number(total);
          pageImages += Number(total) - Number(record);
          records += 1;
          add(perKind, kindOf(line), Number(total));
          add(perNodeKind, `${r[1]}\t${kindOf(line)}`, Number(total));
        } else if (line.startsWith('rmgr: Transaction') && ours.has(tx!)) {
          bytes += Number(total);
          records += 1;
          add(perKind, kindOf(line), Number(total));
        }
      }
      // By table or index (a record is counted under the first block it touches).
      const names = (
        await this.pg.query(
          `SELECT relfilenode::text AS node, relname AS name FROM pg_class WHERE relfilenode::text = ANY($1)`,
          [[...perNode.keys()]],
        )
      ).rows as { node: string; name: string }[];
      const byName = new Map<string, number>();
      for (const [node, b] of perNode) {
        const name = names.find((n) => n.node === node)?.name ?? `relfilenode ${node}`;
        byName.set(name, (byName.get(name) ?? 0) + b);
      }
      const nameOf = (node: string) => names.find((n) => n.node === node)?.name ?? `relfilenode ${node}`;
      const byRelationKind = new Map<string, { records: number; bytes: number }>();
      for (const [key, v] of perNodeKind) {
        const [node, kind] = key.split('\t') as [string, string];
        const k = `${nameOf(node)} ${kind}`;
        const seen = byRelationKind.get(k) ?? { records: 0, bytes: 0 };
        byRelationKind.set(k, { records: seen.records + v.records, bytes: seen.bytes + v.bytes });
      }
      return {
        total: bytes,
        pageImages,
        records,
        byRelation: [...byName].sort((a, b) => b[1] - a[1]),
        byKind: [...perKind].sort((a, b) => b[1].bytes - a[1].bytes),
        byRelationKind: [...byRelationKind].sort((a, b) => b[1].bytes - a[1].bytes),
      };
    } catch {
      return undefined;
    } finally {
      await this.pg.query('SELECT pg_drop_replication_slot($1)', [this.slot]).catch(() => undefined);
    }
  }
}
