// deploy/examples/Dockerfile.custom-plugin, built with podman FROM the image under test, for the
// example plugin examples/plugin-slack (a channel of its own, `slack`): the recipe's package line
// names @acme/clarion-plugin-slack@1.0.0 instead of its placeholder, nothing else changes. The
// example is built and published to a real npm registry (verdaccio, as the plugin registry test
// runs it) with the SDK, and the build installs it from there (the `@acme` scope pointed at it in
// npm's user config, mounted into the build), as a company registry would serve it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podman } from './podman.mjs';

const root = new URL('../..', import.meta.url).pathname;
const NAME = '@acme/clarion-plugin-slack';
const VERSION = '1.0.0';
/** The deploy tests' registry and packing helpers (built with the workspace). */
const deployTests = createRequire(join(root, 'libs', 'deploy-tests', 'package.json'));
const { startVerdaccio } = deployTests('./dist/verdaccio.js');
const { pnpmPack } = deployTests('./dist/packages.js');

/** podman without blocking this process (its registry must answer the build); throws unless it succeeds. */
async function podmanAsync(args) {
  const child = spawn('podman', ['--runtime', 'runc', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const [code] = await once(child, 'exit');
  if (code !== 0)
    throw new Error(`podman ${args.join(' ')} exited ${code}:\n${output.split('\n').slice(-40).join('\n')}`);
  return output;
}

/**
 * A verdaccio registry in `dir` holding the SDK and the example plugin, built by its author's
 * commands (`npm install`, `npm run build`, `npm publish`; its tests run in plugin-registry.test.ts).
 * Returns the registry and the example's build folder (its fake Slack is `dist/testing`).
 */
async function publishExample(dir) {
  const home = join(dir, 'home');
  mkdirSync(home);
  const uplink = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).stdout.trim();
  const registry = await startVerdaccio(join(dir, 'registry'), uplink || 'https://registry.npmjs.org/');
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    npm_config_cache: join(home, '.npm'),
    npm_config_userconfig: registry.userconfig,
    npm_config_update_notifier: 'false',
  };
  const sh = (command, cwd) => {
    const run = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 300_000 });
    if (run.status !== 0)
      throw new Error(`${command} exited ${run.status}:\n${run.stdout}\n${run.stderr}\n${registry.output()}`);
  };
  try {
    sh(`npm publish ${pnpmPack(join(root, 'libs', 'plugin-sdk'), dir)}`, dir);
    const author = join(dir, 'clarion-plugin-slack');
    cpSync(join(root, 'examples', 'plugin-slack'), author, {
      recursive: true,
      filter: (src) => !/\/(node_modules|dist)$/.test(src),
    });
    for (const command of ['npm install --no-fund --no-audit', 'npm run build', 'npm publish'])
      sh(command, author);
    return { registry, author };
  } catch (error) {
    await registry.stop();
    throw error;
  }
}

/** deploy/examples/Dockerfile.custom-plugin with the example's package in place of the placeholder. */
function recipeFor(dir) {
  const example = readFileSync(join(root, 'deploy', 'examples', 'Dockerfile.custom-plugin'), 'utf8');
  const recipe = example
    .replaceAll('@acme/clarion-plugin-pager@1.2.3', `${NAME}@${VERSION}`)
    .replaceAll('@acme/clarion-plugin-pager', NAME);
  assert.notEqual(recipe, example, 'the recipe names a package to replace');
  assert.ok(!recipe.includes('pager'), recipe);
  const file = join(dir, 'Dockerfile.custom-plugin');
  writeFileSync(file, recipe);
  return file;
}

/**
 * Builds the recipe FROM `image` with the example plugin from the registry, then checks the
 * derived image: the plugin is installed without an SDK of its own, `clarion plugins` lists it,
 * a worker and an API of it (host network, `env` their core settings, a migrated database) become
 * ready, and a notification on the `slack` channel goes out through it to its fake Slack.
 * The derived image is removed at the end.
 */
export async function buildCustomPluginImage({ image, runId, ulimits, env, freePort, waitFor }) {
  const dir = mkdtempSync(join(tmpdir(), 'clarion-custom-plugin-'));
  const derived = `localhost/clarion-custom-plugin:image-test-${runId}`;
  const prefix = `clarion-image-${runId}-custom`;
  const containers = [];
  const { registry, author } = await publishExample(dir);
  let slack;
  try {
    // The example's own fake of Slack, from its build (the published package's `/testing`).
    const { startFakeSlack } = createRequire(join(author, 'package.json'))('./dist/testing');
    slack = await startFakeSlack();
    // npm's user config of root (the RUN's user): the example's --prefix moves the global one.
    writeFileSync(join(dir, 'npmrc'), `@acme:registry=${registry.url}\n`);
    const example = recipeFor(dir);
    await podmanAsync([
      'build',
      '--pull=never',
      '--network',
      'host',
      ...ulimits,
      '--volume',
      `${join(dir, 'npmrc')}:/root/.npmrc:ro`,
      '--file',
      example,
      '--build-arg',
      `CLARION_IMAGE=${image}`,
      '--tag',
      derived,
      join(root, 'deploy', 'examples'),
    ]);
    const extra = '/app/plugins-extra/node_modules';
    const installed = podman(
      [
        'run',
        '--rm',
        ...ulimits,
        '--entrypoint',
        'sh',
        derived,
        '-c',
        `test -f ${extra}/${NAME}/dist/index.js && test ! -e ${extra}/@clarion/plugin-sdk && test ! -e ${extra}/zod && echo installed`,
      ],
      { allowFail: true },
    );
    assert.equal(
      installed.stdout.trim(),
      'installed',
      `the plugin is in ${extra}, its peers (SDK, zod) are the server's: ${installed.stderr}`,
    );
    const config = JSON.parse(podman(['image', 'inspect', derived]).stdout)[0].Config;
    assert.equal(config.User, '10001:10001', 'the derived image runs as the non-root user');
    const settings = { CLARION_SLACK_ENDPOINT: slack.url };
    const listed = podman([
      'run',
      '--rm',
      ...ulimits,
      ...Object.entries(settings).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      derived,
      'plugins',
    ]).stdout;
    assert.match(listed, /slack/, listed);
    assert.match(listed, new RegExp(NAME.replace('/', '\\/')), listed);
    assert.match(listed, new RegExp(VERSION.replaceAll('.', '\\.')), listed);

    /** Runs the derived image locked down as the chart does, on this host's network. */
    const start = (name, vars) => {
      containers.push(name);
      podman([
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        '--read-only',
        '--cap-drop=ALL',
        '--tmpfs',
        '/tmp:rw,size=64m,mode=1777',
        ...ulimits,
        ...Object.entries({ ...env, HOST: '127.0.0.1', ...vars }).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
        derived,
        'start',
      ]);
    };
    const logs = () =>
      containers
        .map((c) => {
          const o = podman(['logs', '--tail', '30', c], { allowFail: true, quiet: true });
          return `--- ${c}\n${o.stdout}${o.stderr}`;
        })
        .join('\n');
    const workerPort = await freePort();
    const apiPort = await freePort();
    // The worker runs only the custom plugin (it needs only its settings); the API has no
    // provider settings at all (it validates none).
    start(`${prefix}-worker`, {
      ...settings,
      CLARION_ROLE: 'worker',
      CLARION_WORKER_PLUGINS: 'slack',
      PORT: workerPort,
    });
    start(`${prefix}-api`, { CLARION_ROLE: 'api', PORT: apiPort, CLARION_OUTBOUND_ALLOW_PRIVATE: 'true' });
    for (const port of [workerPort, apiPort])
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
        what: `the derived image ready on ${port}`,
        describe: logs,
      });
    const workerLog = podman(['logs', `${prefix}-worker`]);
    assert.match(`${workerLog.stdout}${workerLog.stderr}`, /running plugins: slack\b/, logs());

    // One notification on the plugin's own channel: the API accepts `slack` from the loaded package.
    const api = `http://127.0.0.1:${apiPort}`;
    const call = async (path, { method = 'POST', body, auth }) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: auth, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text);
    };
    const { key } = await call('/admin/apps', {
      auth: `Bearer ${env.CLARION_ADMIN_TOKEN}`,
      body: { name: 'custom plugin' },
    });
    const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
    const hook = 'https://hooks.slack.com/services/T0001/B0001/pat';
    await call('/v1/users/pat', { method: 'PUT', auth, body: { addresses: { slack: hook } } });
    const { id } = await call('/v1/notifications', {
      auth,
      body: { to: { userId: 'pat' }, content: { slack: { text: 'Paged: on call' } } },
    });
    let deliveries;
    await waitFor(
      async () => {
        ({ deliveries } = await call(`/v1/notifications/${id}`, { method: 'GET', auth }));
        return (
          deliveries.length > 0 && deliveries.every((d) => d.status !== 'pending' && d.status !== 'queued')
        );
      },
      {
        what: 'the delivery through the custom plugin',
        describe: async () => `${JSON.stringify(deliveries)}\n${logs()}`,
      },
    );
    assert.deepEqual(
      deliveries.map((d) => [d.channel, d.plugin, d.status]),
      [['slack', 'slack', 'sent']],
      logs(),
    );
    assert.deepEqual(
      slack.requests.filter((r) => r.path === '/services/T0001/B0001/pat').map((r) => r.json),
      [{ text: 'Paged: on call' }],
      'the fake Slack received the message once',
    );
  } finally {
    for (const name of containers)
      podman(['rm', '--force', '--time', '5', name], { allowFail: true, quiet: true });
    podman(['rmi', '--force', derived], { allowFail: true, quiet: true });
    await slack?.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
