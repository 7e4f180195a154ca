import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@clarion/testkit';

export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** An npm user config (registry and token) to pass as `npm_config_userconfig`. */
  userconfig: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The certificate authorities this machine trusts, for verdaccio's own requests to the uplink
 * (a corporate or sandbox proxy re-signs registry.npmjs.org): Node trusts only its bundled CAs
 * unless told, a test runner may not pass NODE_EXTRA_CA_CERTS on (turbo's strict env mode drops
 * it), and npm's `cafile` lives in a config Node does not read. Without them the uplink's TLS
 * fails and every proxied package resolves to nothing ("prom-client@undefined").
 */
function trustedCas(): NodeJS.ProcessEnv {
  if (process.env.NODE_EXTRA_CA_CERTS) return {};
  const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout?.trim();
  return {
    // The system store (Node 22.15+/24): what curl and npm trust on this machine.
    NODE_USE_SYSTEM_CA: '1',
    ...(cafile && cafile !== 'null' && cafile !== 'undefined' ? { NODE_EXTRA_CA_CERTS: cafile } : {}),
  };
}

/**
 * A real npm registry (verdaccio) on a free port with its storage in `dir`: `@clarion/*` and
 * `@acme/*` are served only from what is published to it, everything else is proxied from
 * `uplink` (the registry npm is configured with).
 */
export async function startVerdaccio(dir: string, uplink: string): Promise<LocalRegistry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 10
uplinks:
  upstream:
    url: ${uplink}
    timeout: 120s
    # Verdaccio takes an uplink for dead after max_fails failures (default 2) and then answers
    # "no such version" for everything it proxies for fail_timeout: one slow answer on a busy
    # machine would fail the whole install. Failures here are transient; keep asking.
    max_fails: 100
    fail_timeout: 10s
    maxage: 30m
    agent_options:
      keepAlive: true
      maxSockets: 20
packages:
  '@clarion/*':
    access: $all
    publish: $authenticated
  '@acme/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    proxy: upstream
log: { type: stdout, format: pretty, level: warn }
`,
  );
  const bin = join(require.resolve('verdaccio/package.json'), '..', 'bin', 'verdaccio');
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, '--config', config, '--listen', `127.0.0.1:${port}`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...trustedCas() },
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${out}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`verdaccio did not answer within 30 s:\n${out}`);
    }
    await sleep(100);
  }
  // A publisher account: npm adduser's request, without its prompts.
  const res = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'publisher', password: 'publisher-password-1', type: 'user', roles: [] }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!res.ok || !token) {
    await stop();
    throw new Error(`verdaccio refused the publisher account: ${res.status}`);
  }
  const userconfig = join(dir, 'npmrc');
  writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { url, userconfig, output: () => out, stop };
}
