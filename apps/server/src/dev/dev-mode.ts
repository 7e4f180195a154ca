import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { allFakes, Sandbox } from '@clarion/sandbox';
import { AppRepository } from '../apps/app-repository';
import { AppsService } from '../apps/apps.service';
import { KeyService } from '../apps/key.service';
import { KeyRepository } from '../apps/key-repository';
import { SecretBox } from '../apps/secret-box';
import { loadEnv } from '../config/env';
import { UserRepository } from '../contacts/user-repository';
import { createDataSource, runMigrations } from '../database/data-source';
import { startServer } from '../server';
import { DevProblem } from './dev-problem';
import { loadEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { startLocalRedis } from './local-redis';
import { claimStopSignals, Teardown, teardownOnExit } from './teardown';

interface DevState {
  adminToken: string;
  encryptionKey: string;
  appId?: string;
  appKey?: string;
  appSecret?: string;
}

/**
 * `clarion dev`: a working server on a fresh machine with nothing configured. Embedded PostgreSQL
 * when DATABASE_URL is unset, a local redis-server when REDIS_URL is unset, the sandbox's fake
 * providers with every plugin pointed at them, a first app and key, and a demo user.
 */
export async function runDev(): Promise<void> {
  const teardown = new Teardown();
  teardownOnExit(teardown);
  try {
    await startDev(teardown);
  } catch (error) {
    // Nothing may outlive a failed start: a PostgreSQL or redis-server left running blocks the next one.
    await teardown.run();
    throw error;
  }
}

async function startDev(teardown: Teardown): Promise<void> {
  const dataDir = resolve(process.env.CLARION_DATA_DIR ?? '.clarion');
  mkdirSync(dataDir, { recursive: true });
  const statePath = join(dataDir, 'dev-state.json');
  const fresh = !existsSync(statePath);
  const state: DevState = !fresh
    ? JSON.parse(readFileSync(statePath, 'utf8'))
    : {
        adminToken: randomBytes(24).toString('base64url'),
        encryptionKey: randomBytes(32).toString('base64'),
      };

  const env: NodeJS.ProcessEnv = { ...process.env };
  let dataNote = '';
  const stale: string[] = [];
  if (!env.DATABASE_URL) {
    // The package adds its own signal hooks when it loads: load it, then take the signals back.
    await loadEmbeddedPostgres();
    claimStopSignals(teardown);
    const pg = await startEmbeddedPostgres(dataDir, Number(env.CLARION_DEV_PG_PORT ?? 54329), fresh);
    teardown.add(pg.stop);
    env.DATABASE_URL = pg.url;
    if (!pg.dir.startsWith(dataDir))
      dataNote = `\n             PostgreSQL's files: ${pg.dir} (its user cannot enter ${dataDir})`;
    if (pg.stoppedStale) stale.push(`a PostgreSQL (pid ${pg.stoppedStale})`);
  }
  if (!env.REDIS_URL) {
    const redis = await startLocalRedis(dataDir, Number(env.CLARION_DEV_REDIS_PORT ?? 6390));
    teardown.add(redis.stop);
    env.REDIS_URL = redis.url;
    if (redis.stoppedStale) stale.push(`a redis-server (pid ${redis.stoppedStale})`);
  }
  const sandboxPort = Number(env.CLARION_SANDBOX_PORT ?? 4010);
  const sandbox = await portTaken(
    Sandbox.start({ fakes: allFakes(), port: sandboxPort }),
    sandboxPort,
    'the sandbox',
    'CLARION_SANDBOX_PORT',
  );
  teardown.add(() => sandbox.stop());
  env.CLARION_ADMIN_TOKEN ??= state.adminToken;
  env.CLARION_ENCRYPTION_KEY ??= state.encryptionKey;
  // Start-up chatter would bury the banner below; LOG_LEVEL=info brings request logs back.
  env.LOG_LEVEL ??= 'warn';
  // The sandbox's webhook receiver and push service listen on 127.0.0.1: outbound clients may connect there.
  env.CLARION_OUTBOUND_ALLOW_PRIVATE ??= 'true';
  const config = loadEnv(env);

  await runMigrations(config.DATABASE_URL);
  const ds = createDataSource(config.DATABASE_URL, 2);
  await ds.initialize();
  try {
    const apps = new AppsService(
      new AppRepository(ds),
      new KeyService(new KeyRepository(ds)),
      new SecretBox(config.CLARION_ENCRYPTION_KEY),
    );
    if (!state.appId || !(await apps.get(state.appId))) {
      const { app, key } = await apps.create('Demo app', { webhookUrl: `${sandbox.url}/webhook/demo` });
      Object.assign(state, { appId: app.id, appKey: key.appKey, appSecret: key.appSecret });
    }
    await new UserRepository(ds).seedDemoUser(state.appId!, `${sandbox.url}/webhook/demo`);
  } finally {
    await ds.destroy();
  }
  writeFileSync(statePath, JSON.stringify(state, null, 2), { mode: 0o600 });

  const app = await portTaken(
    startServer({
      env: config,
      sandboxConfigs: sandbox.pluginConfigs(),
      processEnv: env,
      handleSignals: false, // the teardown closes the app, then PostgreSQL and Redis
    }),
    config.PORT,
    'the API',
    'PORT',
  );
  teardown.add(() => app.close());
  const url = `http://127.0.0.1:${config.PORT}`;
  const auth = `${state.appKey}:${state.appSecret}`;
  process.stdout.write(`
Clarion is running (dev mode: embedded services, sandbox providers)${
    stale.length
      ? `\n\nStopped ${stale.join(' and ')} left running by an earlier \`clarion dev\` that was killed.`
      : ''
  }

  API        ${url}          docs ${url}/docs
  Sandbox    ${sandbox.url}/          (what each fake provider received)
  Data       ${dataDir}${dataNote}
  Admin      CLARION_ADMIN_TOKEN=${env.CLARION_ADMIN_TOKEN}
  App key    ${state.appKey}
  App secret ${state.appSecret}

Send a first notification to the demo user:

  curl -u '${auth}' -H 'content-type: application/json' ${url}/v1/notifications \\
    -d '{"to":{"userId":"demo"},"content":{"webhook":{"json":{"hello":"world"}},"email":{"subject":"Hi","text":"Hello from Clarion"},"sms":{"text":"Hello from Clarion"}}}'

`);
}

/** A port already in use is named, with the variable that moves it (not a stack trace). */
async function portTaken<T>(starting: Promise<T>, port: number, what: string, variable: string): Promise<T> {
  try {
    return await starting;
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
      throw new DevProblem(
        `Port ${port} (${what}) is taken by another program: set ${variable} to a free one.`,
      );
    throw error;
  }
}
