// deploy/compose.yaml's Clarion services run as podman containers of the image under test, as
// compose would run them (podman-compose is not needed): one network whose DNS resolves the service
// names, each service's command, environment, named volumes and published ports from the file, in
// the order of its depends_on (a healthcheck run with `podman exec`). PostgreSQL and Redis are this
// machine's (the file's images cannot be pulled here): `postgres` and `redis` resolve to the
// network's gateway, where a forwarder passes connections on to them; the database is a fresh one,
// Redis keys get a fresh prefix. Then the deploy README's curl block runs as written against the
// published ports and every channel must report `sent`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { podman } from './podman.mjs';
import { dropScratchData } from './scratch-data.mjs';

const root = new URL('../..', import.meta.url).pathname;
const { parse } = createRequire(join(root, 'libs', 'deploy-tests', 'package.json'))('yaml');
const CLARION_SERVICES = ['migrate', 'sandbox', 'api', 'worker'];
const EXPECTED = ['apns:sent', 'fcm:sent', 'sendgrid:sent', 'twilio:sent', 'webhook:sent', 'webpush:sent'];

/** The forwarder's code: host, port, target host, target port as arguments; says `listening`. */
const FORWARDER = `
const net = require('node:net');
const [host, port, toHost, toPort] = process.argv.slice(1);
net.createServer((socket) => {
  const upstream = net.connect(Number(toPort), toHost);
  socket.pipe(upstream).pipe(socket);
  const close = () => { socket.destroy(); upstream.destroy(); };
  socket.on('error', close);
  upstream.on('error', close);
}).on('error', (error) => {
  // A server listening on every interface (this port) is reachable on the gateway already.
  console.log(error.code === 'EADDRINUSE' ? 'in use' : String(error));
  process.exit(1);
}).listen(Number(port), host, () => console.log('listening'));`;

/**
 * Passes TCP connections on `host:port` to `target` (a URL's host and port). A child process: the
 * test's own event loop stops while it waits for podman. Undefined where the port is taken on
 * every interface (e.g. a PostgreSQL listening on *:5432): the containers reach that one directly.
 */
async function forward(host, port, target) {
  const child = spawn(
    process.execPath,
    ['-e', FORWARDER, host, String(port), target.hostname, target.port || String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let said = '';
  child.stdout.on('data', (chunk) => {
    said += chunk;
  });
  await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  if (said.trim() === 'in use') return undefined;
  assert.equal(said.trim(), 'listening', `a forwarder on ${host}:${port}`);
  return child;
}

/** The README's request block after "A first notification on every channel:", one statement per unindented line. */
function readmeStatements() {
  const readme = readFileSync(join(root, 'deploy', 'README.md'), 'utf8');
  const block = /A first notification on every channel:\n\n((?: {4}.*\n|\n)+)/.exec(readme)?.[1];
  assert.ok(block, 'the README’s request block');
  const statements = [];
  for (const line of block
    .trimEnd()
    .split('\n')
    .map((l) => l.slice(4))) {
    if (/^\S/.test(line)) statements.push(line);
    else statements[statements.length - 1] += `\n${line}`;
  }
  return statements;
}

/**
 * Runs the compose file's Clarion services from `image` and the README's curl block against them.
 * `context`: image, runId, ulimits (podman flags), adminUrl (PostgreSQL, a database is created and
 * dropped), redisUrl, requireFromServer, waitFor, freePort.
 */
export async function runComposeServices({
  image,
  runId,
  ulimits,
  adminUrl,
  redisUrl,
  requireFromServer,
  waitFor,
  freePort,
}) {
  const compose = parse(readFileSync(join(root, 'deploy', 'compose.yaml'), 'utf8'), { merge: true });
  const network = `clarion-compose-${runId}`;
  const database = `clarion_compose_${runId}`;
  const prefix = `{clarion-compose-${runId}}`;
  const containers = [];
  const volumes = new Set();
  const servers = [];
  const out = mkdtempSync(join(tmpdir(), 'clarion-compose-readme-'));
  const { Client } = requireFromServer('pg');
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const logs = () =>
    containers
      .map((c) => {
        const o = podman(['logs', '--tail', '30', c], { allowFail: true, quiet: true });
        return `--- ${c}\n${o.stdout}${o.stderr}`;
      })
      .join('\n');
  try {
    podman(['network', 'create', network], { quiet: true });
    const gateway = podman([
      'network',
      'inspect',
      network,
      '--format',
      '{{range .Subnets}}{{.Gateway}}{{end}}',
    ])
      .stdout.trim()
      .split('\n')[0];
    assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, 'the network has an IPv4 gateway');
    const adminParsed = new URL(adminUrl);

    /** Host ports for the file's published ones (runs share this machine). */
    const published = new Map();
    const run = async (service, { detach }) => {
      const spec = compose.services[service];
      const env = { ...spec.environment };
      if (env.DATABASE_URL) {
        // Same host and port (the forwarder); this machine's user and a fresh database.
        const url = new URL(env.DATABASE_URL);
        url.username = adminParsed.username;
        url.password = adminParsed.password;
        url.pathname = `/${database}`;
        env.DATABASE_URL = url.href;
      }
      if (env.REDIS_URL) env.CLARION_QUEUE_PREFIX = prefix;
      const args = [
        'run',
        ...(detach ? ['--detach'] : ['--rm']),
        '--name',
        `${network}-${service}`,
        '--network',
        network,
        '--network-alias',
        service,
        '--add-host',
        `postgres:${gateway}`,
        '--add-host',
        `redis:${gateway}`,
        ...ulimits,
      ];
      for (const mount of spec.volumes ?? []) {
        const [volume, target, mode] = mount.split(':');
        assert.ok(!volume.startsWith('.'), `${service}: ${mount} is a named volume`);
        const name = `${network}-${volume}`;
        if (!volumes.has(name)) {
          podman(['volume', 'create', name], { quiet: true });
          volumes.add(name);
        }
        args.push('--volume', `${name}:${target}${mode ? `:${mode}` : ''}`);
      }
      for (const mapping of spec.ports ?? []) {
        const [hostPort, containerPort] = String(mapping).split(':');
        const local = await freePort();
        published.set(hostPort, local);
        args.push('--publish', `127.0.0.1:${local}:${containerPort}`);
      }
      for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
      if (detach) containers.push(`${network}-${service}`);
      return podman([...args, image, ...spec.command], { allowFail: true, quiet: true });
    };
    /** Waits for the service's own healthcheck command to pass inside its container. */
    const healthy = (service) => {
      const [kind, ...command] = compose.services[service].healthcheck.test;
      assert.equal(kind, 'CMD');
      return waitFor(
        () =>
          podman(['exec', `${network}-${service}`, ...command], { allowFail: true, quiet: true }).status ===
          0,
        { what: `${service} healthy`, describe: logs },
      );
    };

    for (const service of CLARION_SERVICES) assert.ok(compose.services[service]?.command, service);
    // The sandbox depends on nothing: it goes first, and its start brings the network's bridge up.
    const sandbox = await run('sandbox', { detach: true });
    assert.equal(sandbox.status, 0, sandbox.stderr);
    // The file's own addresses, postgres:5432 and redis:6379, reach this machine's servers.
    const env = compose.services.migrate.environment;
    for (const [url, target] of [
      [env.DATABASE_URL, adminParsed],
      [env.REDIS_URL, new URL(redisUrl)],
    ]) {
      const forwarder = await forward(gateway, Number(new URL(url).port), target);
      if (forwarder) servers.push(forwarder);
    }
    const migrate = await run('migrate', { detach: false });
    assert.equal(migrate.status, 0, `${migrate.stdout}\n${migrate.stderr}`);
    await healthy('sandbox');
    // The sandbox writes the plugins' settings files once every fake listens.
    await waitFor(
      () =>
        podman(['logs', `${network}-sandbox`], { allowFail: true, quiet: true }).stdout.includes(
          'sandbox listening',
        ),
      { what: 'the sandbox’s fakes', describe: logs },
    );
    for (const service of ['api', 'worker']) {
      const started = await run(service, { detach: true });
      assert.equal(started.status, 0, started.stderr);
    }
    await healthy('api');
    await healthy('worker');
    const workerLog = podman(['logs', `${network}-worker`], { quiet: true });
    const running = `${workerLog.stdout}${workerLog.stderr}`
      .split('\n')
      .find((l) => l.includes('running plugins'));
    for (const plugin of [
      'webhook',
      'apns',
      'fcm',
      'webpush',
      'twilio',
      'vonage',
      'sendgrid',
      'mailchimp',
      'smtp',
    ])
      assert.ok(running?.includes(plugin), `the worker runs ${plugin}: ${running}`);

    // The README's block as written; only the published ports differ, and the reader copying the key.
    const statements = readmeStatements();
    const apiUrl = `http://127.0.0.1:${published.get('3000')}`;
    const sandboxUrl = `http://127.0.0.1:${published.get('4010')}`;
    const appsAt = statements.findIndex((st) => st.includes('/admin/apps'));
    assert.ok(appsAt >= 0, 'the README creates an app');
    const script = statements
      .map((statement, i) => {
        let st = statement
          .replace(/ {2,}# .*$/gm, '')
          .replaceAll('http://localhost:3000', apiUrl)
          .replaceAll('http://localhost:4010', sandboxUrl);
        if (st === 'KEY=<appKey>:<appSecret>')
          st = `KEY=$(node -e 'const {key}=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(key.appKey+":"+key.appSecret)' "${join(out, String(appsAt))}")`;
        return `{ ${st}\n} > "${join(out, String(i))}"`;
      })
      .join('\n');
    const curl = spawnSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(curl.status, 0, `${curl.stdout}\n${curl.stderr}`);
    const answers = statements.map((_, i) => readFileSync(join(out, String(i)), 'utf8'));
    for (const [i, answer] of answers.entries())
      assert.doesNotMatch(answer, /"error"/, `${statements[i]}\n→ ${answer}`);
    const { key } = JSON.parse(answers[appsAt]);
    const { id } = JSON.parse(answers[answers.length - 1]);
    assert.ok(id, 'the last request accepted a notification');
    const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
    let last;
    await waitFor(
      async () => {
        const res = await fetch(`${apiUrl}/v1/notifications/${id}`, { headers: { authorization: auth } });
        last = await res.json();
        return (
          last.deliveries?.length > 0 &&
          last.deliveries.every((d) => d.status !== 'pending' && d.status !== 'queued')
        );
      },
      { what: 'every delivery finished', describe: () => `${JSON.stringify(last)}\n${logs()}` },
    );
    assert.deepEqual(last.deliveries.map((d) => `${d.plugin}:${d.status}`).sort(), EXPECTED, logs());
    // The sandbox's page (published 4010) holds each message.
    const received = await (await fetch(`${sandboxUrl}/_sandbox/messages?outcome=accepted`)).json();
    const providers = new Set((received.messages ?? received).map((m) => m.provider));
    for (const plugin of ['apns', 'fcm', 'webpush', 'twilio', 'sendgrid', 'webhook'])
      assert.ok(providers.has(plugin), `the sandbox got ${plugin}`);
  } finally {
    for (const name of containers.reverse())
      podman(['rm', '--force', '--time', '5', name], { allowFail: true, quiet: true });
    for (const name of volumes) podman(['volume', 'rm', '--force', name], { allowFail: true, quiet: true });
    podman(['network', 'rm', '--force', network], { allowFail: true, quiet: true });
    for (const server of servers) server.kill();
    rmSync(out, { recursive: true, force: true });
    await dropScratchData({ requireFromServer, adminUrl, database, redisUrl, prefix });
  }
}
