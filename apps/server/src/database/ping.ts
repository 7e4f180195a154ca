import type { DataSource } from 'typeorm';

/** The cheapest round trip that proves the database answers (readiness). */
export async function ping(db: DataSource): Promise<void> {
  await db.query('SELECT 1');
}
