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

/** The plugin as its author publishes it: the SDK a peer dependency; each send POSTs to the address. */
const PLUGIN_SOURCE = `
const sdk = require('@clarion/plugin-sdk');
// zod as the SDK has it: the package needs nothing from the registry but itself.
const { z } = require(require.resolve('zod', { paths: [require.resolve('@clarion/plugin-sdk')] }));
exports.default = sdk.defineChannelPlugin({
  name: 'pager', version: '${VERSION}', sdkVersion: '^0.1.0', channel: 'pager', addressKind: 'url',
  config: z.object({ apiKey: z.string().min(8) }),
  async createSender() { return { async send() { return {}; }, async close() {} }; },
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
 * custom plugin, and a worker of it (host network, `env` its core settings) becomes ready running it.
 * The derived image is removed at the end.
 */
export async function buildCustomPluginImage({ image, runId, ulimits, env, freePort, waitFor }) {
  const dir = mkdtempSync(join(tmpdir(), 'clarion-custom-plugin-'));
  const derived = `localhost/clarion-custom-plugin:image-test-${runId}`;
  const worker = `clarion-image-${runId}-custom-worker`;
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

    const port = await freePort();
    podman([
      'run',
      '--detach',
      '--name',
      worker,
      '--network',
      'host',
      '--read-only',
      '--cap-drop=ALL',
      '--tmpfs',
      '/tmp:rw,size=64m,mode=1777',
      ...ulimits,
      ...Object.entries({
        ...env,
        ...settings,
        CLARION_ROLE: 'worker',
        HOST: '127.0.0.1',
        PORT: port,
      }).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      derived,
      'start',
    ]);
    const logs = () => {
      const o = podman(['logs', worker], { allowFail: true, quiet: true });
      return `${o.stdout}${o.stderr}`;
    };
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      what: 'the custom-plugin worker ready',
      describe: logs,
    });
    assert.match(logs(), /running plugins: .*pager/, logs());
  } finally {
    podman(['rm', '--force', '--time', '5', worker], { allowFail: true, quiet: true });
    podman(['rmi', '--force', derived], { allowFail: true, quiet: true });
    registry.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
