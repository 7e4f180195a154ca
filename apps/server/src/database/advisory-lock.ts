import type { Queryable } from './prepared';

/** Takes a transaction-scoped advisory lock if free (released at the transaction's end); false if another holds it. */
export async function tryTransactionLock(tx: Queryable, key: number): Promise<boolean> {
  const [lock] = (await tx.query('SELECT pg_try_advisory_xact_lock($1) AS ok', [key])) as { ok: boolean }[];
  return lock?.ok === true;
}
