// deploy/examples/Dockerfile.custom-plugin, built unchanged with podman FROM the image under test.
// The package it installs, @acme/clarion-plugin-pager@1.2.3, is a made-up example: here it is
// served by a small npm registry of this test's own (the `@acme` scope pointed at it in npm's
// global config, mounted into the build), as a company registry would serve it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podman, run } from './podman.mjs';

const root = new URL('../..', import.meta.url).pathname;
const NAME = '@acme/clarion-plugin-pager';
const VERSION = '1.2.3';

/**
 * The plugin as its author publishes it: the SDK a peer dependency. A provider of the webhook
 * channel (a channel of its own would have no user addresses to send to), answering every send.
 */
const PLUGIN_SOURCE = `
const sdk = require('@clarion/plugin-sdk');
// zod as the SDK has it: the package needs nothing from the registry but itself.
const { z } = require(require.resolve('zod', { paths: [require.resolve('@clarion/plugin-sdk')] }));
exports.default = sdk.defineChannelPlugin({
  name: 'pager', version: '${VERSION}', sdkVersion: '^0.1.0', channel: 'webhook', addressKind: 'url',
  config: z.object({ apiKey: z.string().min(8) }),
  async createSender() {
    return { async send() { return { providerMessageId: 'paged-by-acme' }; }, async close() {} };
  },
});`;

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

/** Packs the plugin and serves it as a registry does (packument + tarball) on 127.0.0.1. */
async function servePlugin(dir) {
  const pkg = join(dir, 'package');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: NAME,
      version: VERSION,
      main: 'index.js',
      peerDependencies: { '@clarion/plugin-sdk': '^0.1.0', 'prom-client': '^15.0.0' },
    }),
  );
  writeFileSync(join(pkg, 'index.js'), PLUGIN_SOURCE);
  run('tar', ['-czf', join(dir, 'plugin.tgz'), '-C', dir, 'package']);
  const tarball = readFileSync(join(dir, 'plugin.tgz'));
  const requests = [];
  const server = createServer((req, res) => {
    requests.push(req.url);
    const base = `http://127.0.0.1:${server.address().port}`;
    if (decodeURIComponent(req.url ?? '') === `/${NAME}`) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          name: NAME,
          'dist-tags': { latest: VERSION },
          versions: {
            [VERSION]: {
              name: NAME,
              version: VERSION,
              main: 'index.js',
              peerDependencies: { '@clarion/plugin-sdk': '^0.1.0', 'prom-client': '^15.0.0' },
              dist: {
                tarball: `${base}/plugin.tgz`,
                integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
              },
            },
          },
        }),
      );
    } else if (req.url === '/plugin.tgz') res.end(tarball);
    else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, requests, url: `http://127.0.0.1:${server.address().port}/` };
}

/**
 * Builds the example FROM `image`, then checks the derived image: `clarion plugins` lists the
 * custom plugin, a worker and an API of it (host network, `env` their core settings, a migrated
 * database) become ready, and a notification goes out through the plugin.
 * The derived image is removed at the end.
 */
export async function buildCustomPluginImage({ image, runId, ulimits, env, freePort, waitFor }) {
  const dir = mkdtempSync(join(tmpdir(), 'clarion-custom-plugin-'));
  const derived = `localhost/clarion-custom-plugin:image-test-${runId}`;
  const prefix = `clarion-image-${runId}-custom`;
  const containers = [];
  const registry = await servePlugin(dir);
  try {
    // npm's user config of root (the RUN's user): the example's --prefix moves the global one.
    writeFileSync(join(dir, 'npmrc'), `@acme:registry=${registry.url}\n`);
    const example = join(root, 'deploy', 'examples', 'Dockerfile.custom-plugin');
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
    assert.ok(
      registry.requests.some((u) => u.endsWith('/plugin.tgz')),
      `the build fetched the plugin: ${registry.requests}`,
    );
    assert.ok(
      !registry.requests.some((u) => decodeURIComponent(u).includes('@clarion/plugin-sdk')),
      'the unpublished SDK is not looked up',
    );
    const config = JSON.parse(podman(['image', 'inspect', derived]).stdout)[0].Config;
    assert.equal(config.User, '10001:10001', 'the derived image runs as the non-root user');
    const settings = { CLARION_PAGER_API_KEY: 'pager-key-1234' };
    const listed = podman([
      'run',
      '--rm',
      ...ulimits,
      ...Object.entries(settings).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      derived,
      'plugins',
    ]).stdout;
    assert.match(listed, /pager/, listed);
    assert.match(listed, new RegExp(NAME.replace('/', '\\/')), listed);

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
      CLARION_WORKER_PLUGINS: 'pager',
      PORT: workerPort,
    });
    start(`${prefix}-api`, { CLARION_ROLE: 'api', PORT: apiPort, CLARION_OUTBOUND_ALLOW_PRIVATE: 'true' });
    for (const port of [workerPort, apiPort])
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
        what: `the derived image ready on ${port}`,
        describe: logs,
      });
    const workerLog = podman(['logs', `${prefix}-worker`]);
    assert.match(`${workerLog.stdout}${workerLog.stderr}`, /running plugins: pager\b/, logs());

    // One notification through it: an app routes its webhook channel to the pager plugin.
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
      body: { name: 'custom plugin', settings: { providers: { webhook: ['pager'] } } },
    });
    const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
    await call('/v1/users/pat', { method: 'PUT', auth, body: { webhookUrl: 'http://127.0.0.1:9/pager' } });
    const { id } = await call('/v1/notifications', {
      auth,
      body: { to: { userId: 'pat' }, content: { webhook: { json: { page: 'on call' } } } },
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
      deliveries.map((d) => [d.plugin, d.status, d.providerMessageId]),
      [['pager', 'sent', 'paged-by-acme']],
      logs(),
    );
  } finally {
    for (const name of containers)
      podman(['rm', '--force', '--time', '5', name], { allowFail: true, quiet: true });
    podman(['rmi', '--force', derived], { allowFail: true, quiet: true });
    registry.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
