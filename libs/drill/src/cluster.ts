import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { type ClarionProcess, freePort, startClarionProcess } from '@clarion/testkit';

/** The built server's CLI (`clarion start`), as production runs it. */
export const SERVER_MAIN = join(
  dirname(require.resolve('@clarion/server/package.json')),
  'dist',
  'cli',
  'main.js',
);

export const WEBHOOK_SECRET = 'drill-webhook-secret-0123456789abcdef';

export type Role = 'api' | 'worker';

/**
 * One API and two worker processes of the built server (`CLARION_ROLE`), with the server's
 * default recovery settings: the drill measures what an operator gets. Each can be killed and
 * started again; the API comes back on its port, so clients keep their URL.
 */
export class Cluster {
  readonly admin = randomBytes(18).toString('base64url');
  private readonly env: NodeJS.ProcessEnv;
  private processes: ClarionProcess[] = [];
  /** Every process started, stopped ones too: their logs outlive them. */
  private readonly started: ClarionProcess[] = [];
  /** When each SIGKILL was sent (ms since epoch). */
  readonly kills: number[] = [];
  private apiPort = 0;

  constructor(databaseUrl: string, redisUrl: string) {
    this.env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      CLARION_ADMIN_TOKEN: this.admin,
      CLARION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLARION_QUEUE_PREFIX: '{drill}',
      CLARION_PLUGINS: '@clarion/plugin-webhook',
      CLARION_WEBHOOK_SECRET: WEBHOOK_SECRET,
      // The receiver listens on loopback, which the default outbound policy refuses.
      CLARION_OUTBOUND_ALLOW: '127.0.0.1',
      CLARION_MIGRATE_ON_START: 'false',
      CLARION_API_QUOTA: '1000000000',
      LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? 'error',
    };
  }

  /** Migrates the database, then starts api, worker 1, worker 2. */
  async start(): Promise<void> {
    const migrated = spawnSync(process.execPath, [SERVER_MAIN, 'migrate'], {
      env: this.env,
      encoding: 'utf8',
    });
    if (migrated.status !== 0) throw new Error(`clarion migrate failed: ${migrated.stderr}`);
    this.apiPort = await freePort();
    this.processes = await Promise.all([this.spawn('api'), this.spawn('worker'), this.spawn('worker')]);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** Process names in start order: `api`, `worker1`, `worker2`. */
  get names(): string[] {
    return ['api', 'worker1', 'worker2'];
  }

  /** Stops one process with a signal: SIGKILL is a crash, SIGTERM a graceful stop. */
  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    if (signal === 'SIGKILL') this.kills.push(Date.now());
    await this.process(name).stop(signal);
  }

  /** Starts a stopped process again in its role (the API on its port). */
  async startAgain(name: string): Promise<void> {
    this.processes[this.names.indexOf(name)] = await this.spawn(this.process(name).role as Role);
  }

  private process(name: string): ClarionProcess {
    const found = this.processes[this.names.indexOf(name)];
    if (!found) throw new Error(`no process ${name}`);
    return found;
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop('SIGKILL')));
  }

  /** What every process started so far wrote (LOG_LEVEL: DRILL_LOG_LEVEL, default error). */
  logLines(): string[] {
    return this.started.flatMap((p) => p.lines());
  }

  private async spawn(role: Role): Promise<ClarionProcess> {
    const proc = await startClarionProcess({
      main: SERVER_MAIN,
      role,
      env: this.env,
      output: 'capture',
      readyTimeoutMs: 60_000,
      ...(role === 'api' ? { port: this.apiPort } : {}),
    });
    this.started.push(proc);
    return proc;
  }
}
