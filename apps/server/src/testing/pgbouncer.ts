import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, chownSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, TEST_ADMIN_URL, waitFor } from '@clarion/testkit';
import { Client } from 'pg';

/** PGBOUNCER, else `pgbouncer` on PATH or in /usr/sbin (Debian's package); undefined when absent. */
export function pgbouncerBin(): string | undefined {
  const candidates = [
    process.env.PGBOUNCER,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'pgbouncer')),
    '/usr/sbin/pgbouncer',
  ];
  return candidates.find((path) => {
    if (!path) return false;
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The line a test skips with when the machine has no pgbouncer. */
export const NO_PGBOUNCER = 'pgbouncer is not installed (apt-get install pgbouncer): skipped';

/**
 * A private PgBouncer in transaction mode on a free port, in front of the test PostgreSQL: every
 * database name is passed through (`*`), so a test database made later is reachable as well.
 * PgBouncer refuses to run as root, so as root it runs as the `postgres` user.
 */
export class OwnPgBouncer {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    private readonly output: () => string,
  ) {}

  static async start(options: { poolSize: number }): Promise<OwnPgBouncer> {
    const bin = pgbouncerBin();
    if (!bin) throw new Error(NO_PGBOUNCER);
    const upstream = new URL(TEST_ADMIN_URL);
    const user = decodeURIComponent(upstream.username || 'postgres');
    const password = decodeURIComponent(upstream.password);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'clarion-pgbouncer-'));
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    const target = [
      `host=${upstream.hostname}`,
      `port=${upstream.port || '5432'}`,
      `user=${quote(user)}`,
      ...(password ? [`password=${quote(password)}`] : []),
    ].join(' ');
    writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = ${target}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        'pool_mode = transaction',
        `default_pool_size = ${options.poolSize}`,
        'max_client_conn = 500',
        'ignore_startup_parameters = extra_float_digits',
        '',
      ].join('\n'),
    );
    const asRoot = process.getuid?.() === 0;
    const ids = asRoot ? postgresUser() : undefined;
    if (ids) for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), ids.uid, ids.gid);
    const proc = spawn(bin, [join(dir, 'pgbouncer.ini')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    });
    let log = '';
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const bouncer = new OwnPgBouncer(proc, dir, port, () => log);
    try {
      await waitFor(
        'pgbouncer accepts connections',
        async () => {
          if (proc.exitCode !== null) throw new Error(`pgbouncer exited ${proc.exitCode}:\n${log}`);
          const c = new Client({ connectionString: bouncer.urlFor(TEST_ADMIN_URL) });
          try {
            await c.connect();
            await c.query('SELECT 1');
            return true;
          } catch {
            return false;
          } finally {
            await c.end().catch(() => undefined);
          }
        },
        { timeoutMs: 15_000 },
      );
    } catch (error) {
      await bouncer.stop();
      throw error;
    }
    return bouncer;
  }

  /** `url` (a test database on the upstream PostgreSQL) reached through this PgBouncer. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    u.password = '';
    return u.toString();
  }

  /** What pgbouncer printed (its log): for a failing test's message. */
  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = once(this.proc, 'exit');
      this.proc.kill('SIGTERM'); // immediate shutdown (SIGINT waits for clients)
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root: a `postgres` user is needed to run pgbouncer');
  }
}
