import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@clarion/testkit';
import { checkAnswersFrom } from '../testing/checked-fetch';
import { loadEmbeddedPostgres, postgresDir } from './embedded-postgres';

interface Started {
  child: ChildProcess;
  banner: string;
}

const BANNER_END = /Send a first notification to the demo user:\n\n(\s+curl .+\\\n.+)\n/;

/** Whether anything accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * With no DATABASE_URL and no REDIS_URL, `clarion dev` (the README's first command) runs
 * an embedded PostgreSQL and a local redis-server, the sandbox, and prints a key and a `curl` that
 * sends a first notification. Here it runs as a newcomer would: a real process with nothing
 * configured but its ports (so it does not collide with a dev server on this machine).
 */
describe('`clarion dev` with nothing configured', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clarion-dev-'));
  const main = join(__dirname, '..', 'cli', 'main.js');
  let ports: { api: number; pg: number; redis: number; sandbox: number };
  let running: ChildProcess | undefined;
  /** What the first run printed and accepted, to find again after a restart. */
  let first: { appKey: string; auth: string; notificationId: string } | undefined;

  const start = async (): Promise<Started> => {
    const child = spawn(process.execPath, [main, 'dev'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CLARION_DATA_DIR: dataDir,
        PORT: String(ports.api),
        CLARION_DEV_PG_PORT: String(ports.pg),
        CLARION_DEV_REDIS_PORT: String(ports.redis),
        CLARION_SANDBOX_PORT: String(ports.sandbox),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running = child;
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    // The first start runs initdb: allow it time on a busy machine.
    await waitFor(
      `the dev banner (output so far: ${out.slice(-500)})`,
      () => BANNER_END.test(out) || child.exitCode !== null,
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    assert.equal(child.exitCode, null, `clarion dev exited: ${out}`);
    return { child, banner: out };
  };

  /** Runs the banner's curl exactly as printed, through a shell, as a newcomer pastes it. */
  const runPrintedCurl = (banner: string): { id: string; deliveries: number } => {
    const curl = BANNER_END.exec(banner)![1]!;
    const run = spawnSync('sh', ['-c', `${curl} --silent --show-error --fail-with-body`], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    return JSON.parse(run.stdout) as { id: string; deliveries: number };
  };

  const received = async (): Promise<{ provider: string; to: string; outcome: string }[]> =>
    (
      (await (await fetch(`http://127.0.0.1:${ports.sandbox}/_sandbox/messages`)).json()) as {
        messages: { provider: string; to: string; outcome: string }[];
      }
    ).messages;

  const stop = async (child: ChildProcess): Promise<number | null> => {
    running = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    return (await exited)[0];
  };
  /** Where the banner says PostgreSQL keeps its files when its user cannot enter the data directory. */
  let pgElsewhere: string | undefined;

  before(async () => {
    ports = {
      api: await freePort(),
      pg: await freePort(),
      redis: await freePort(),
      sandbox: await freePort(),
    };
    // `clarion dev` serves the API there: its answers are checked against the OpenAPI document.
    checkAnswersFrom(`http://127.0.0.1:${ports.api}`);
  });
  after(async () => {
    if (running) await stop(running);
    rmSync(dataDir, { recursive: true, force: true });
    if (pgElsewhere) rmSync(pgElsewhere, { recursive: true, force: true });
  });

  test('prints the API, the sandbox and a key; its curl sends a first notification that arrives on every channel', async () => {
    const { child, banner } = await start();
    assert.match(banner, new RegExp(`API\\s+http://127\\.0\\.0\\.1:${ports.api}`));
    assert.match(banner, new RegExp(`Sandbox\\s+http://127\\.0\\.0\\.1:${ports.sandbox}/`));
    assert.match(banner, /App key\s+\S+\n\s+App secret\s+\S+/);
    // mkdtemp made the data directory private (700): as root, PostgreSQL's files go elsewhere, and it says where.
    pgElsewhere = /PostgreSQL's files: (\S+)/.exec(banner)?.[1];
    if (process.getuid?.() === 0)
      assert.ok(pgElsewhere?.startsWith('/var/tmp/clarion-dev-postgres-'), banner);

    const accepted = runPrintedCurl(banner);
    assert.equal(accepted.deliveries, 3, 'webhook, e-mail and SMS for the demo user');
    const messages = await waitFor('the three messages at the sandbox', async () => {
      const all = (await received()).filter((m) => m.outcome === 'accepted');
      return all.length >= 3 ? all : undefined;
    });
    assert.deepEqual(messages.map((m) => m.provider).sort(), ['sendgrid', 'twilio', 'webhook']);

    const [appKey, appSecret] = [/App key\s+(\S+)/.exec(banner)![1]!, /App secret\s+(\S+)/.exec(banner)![1]!];
    const auth = `Basic ${Buffer.from(`${appKey}:${appSecret}`).toString('base64')}`;
    const view = await waitFor('every delivery sent', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.api}/v1/notifications/${accepted.id}`, {
        headers: { authorization: auth },
      });
      const body = (await res.json()) as { deliveries: { channel: string; status: string }[] };
      return body.deliveries.every((d) => d.status === 'sent') ? body : undefined;
    });
    assert.deepEqual(view.deliveries.map((d) => d.channel).sort(), ['email', 'sms', 'webhook']);
    first = { appKey, auth, notificationId: accepted.id };

    assert.equal(await stop(child), 0, 'SIGTERM stops it cleanly');
    for (const port of [ports.api, ports.pg, ports.redis, ports.sandbox]) {
      assert.equal(await listening(port), false, `port ${port} is closed: its service stopped too`);
    }
  });

  test('started again on the same data directory, it keeps its data and its key', async () => {
    const { banner } = await start();
    assert.ok(first, 'the first run got this far');
    assert.equal(/App key\s+(\S+)/.exec(banner)?.[1], first.appKey, 'the same app key');
    const old = await fetch(`http://127.0.0.1:${ports.api}/v1/notifications/${first.notificationId}`, {
      headers: { authorization: first.auth },
    });
    assert.equal(old.status, 200, 'the first notification is still there');
    const accepted = runPrintedCurl(banner);
    assert.equal(accepted.deliveries, 3);
    await waitFor(
      'the second run’s messages',
      async () => (await received()).filter((m) => m.outcome === 'accepted').length >= 3,
    );
  });
});

test('without REDIS_URL and without redis-server, `clarion dev` says how to provide Redis and stops', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'clarion-noredis-'));
  const run = spawnSync(process.execPath, [join(__dirname, '..', 'cli', 'main.js'), 'dev'], {
    env: {
      PATH: '/nonexistent', // no redis-server to be found
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused', // so no embedded PostgreSQL either
      CLARION_DATA_DIR: dataDir,
    },
    encoding: 'utf8',
    timeout: 30_000,
  });
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(run.status, 1, run.stderr);
  assert.match(
    run.stderr,
    /^clarion: Redis is needed and no REDIS_URL is set, and `redis-server` is not installed\./,
  );
  assert.match(run.stderr, /apt-get install redis-server/);
  assert.match(run.stderr, /REDIS_URL=redis:\/\/host:6379 scripts\/clarion dev/);
  assert.doesNotMatch(run.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('embedded PostgreSQL is loaded only by dev mode; where the package is absent, it says how to provide PostgreSQL', async () => {
  // A development dependency: the production install and the image leave it out.
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  assert.equal(pkg.dependencies['embedded-postgres'], undefined);
  assert.ok(pkg.devDependencies['embedded-postgres']);
  assert.equal(typeof (await loadEmbeddedPostgres()), 'function', 'installed in the repository');
  await assert.rejects(loadEmbeddedPostgres('embedded-postgres-not-installed'), (error: Error) => {
    assert.equal(error.name, 'MissingServiceError');
    assert.match(error.message, /^PostgreSQL is needed and no DATABASE_URL is set/);
    assert.match(error.message, /DATABASE_URL=postgres:\/\/user:password@host:5432\/clarion clarion dev/);
    return true;
  });
});

describe("where dev mode keeps PostgreSQL's files", () => {
  test('in the data directory, unless PostgreSQL runs as another user (as root) who cannot enter it', () => {
    const open = mkdtempSync(join(tmpdir(), 'clarion-pgdir-'));
    const closed = mkdtempSync(join(tmpdir(), 'clarion-pgdir-'));
    try {
      chmodSync(open, 0o755);
      chmodSync(closed, 0o700);
      assert.equal(
        postgresDir(closed, false),
        join(closed, 'postgres'),
        'not root: PostgreSQL runs as this user',
      );
      assert.equal(postgresDir(open, true), join(open, 'postgres'), 'root, but the path is open to others');
      const elsewhere = postgresDir(closed, true);
      assert.match(elsewhere, /^\/var\/tmp\/clarion-dev-postgres-[0-9a-f]{12}$/);
      assert.equal(postgresDir(closed, true), elsewhere, 'the same folder on every start');
      const another = mkdtempSync(join(tmpdir(), 'clarion-pgdir-'));
      assert.notEqual(postgresDir(another, true), elsewhere, 'one folder per data directory');
      rmSync(another, { recursive: true, force: true });
    } finally {
      rmSync(open, { recursive: true, force: true });
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
