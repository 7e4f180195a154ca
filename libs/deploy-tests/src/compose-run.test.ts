// biome-ignore-all lint/suspicious/noExplicitAny: parsed YAML is untyped
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  freePort,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
  waitFor,
} from '@clarion/testkit';
// Every answer from the Clarion processes started here is checked against the OpenAPI document.
import '@clarion/server/dist/testing/checked-fetch';
import { parse } from 'yaml';
import { deployDir } from './paths';

const readme = readFileSync(join(deployDir, 'README.md'), 'utf8');

const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');
const compose = parse(readFileSync(join(deployDir, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, any>;
};

/**
 * deploy/compose.yaml's Clarion services run here as processes, with their commands and
 * environment from the file. What Docker provides is stood in for: service names resolve to
 * 127.0.0.1, named volumes are folders, fixed ports become free ones, PostgreSQL and Redis are
 * this machine's (a fresh database and key prefix). Then a notification goes out on every
 * channel, as the deploy README walks a newcomer through it, and each delivery is `sent`.
 */
describe('compose: the Clarion services run as the file says, and deliver on every channel', () => {
  let db: TestDatabase;
  const volumes = mkdtempSync(join(tmpdir(), 'clarion-compose-'));
  const prefix = testPrefix('compose');
  const children: ChildProcess[] = [];
  const processes: ClarionProcess[] = [];
  const ports = new Map<string, number>();
  before(async () => {
    db = await createTestDatabase('compose');
  });
  after(async () => {
    for (const p of processes) await p.stop();
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await once(c, 'exit');
      }
    }
    rmSync(volumes, { recursive: true, force: true });
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  /** A fixed port of the file, as a free port here (the same one wherever the file repeats it). */
  const port = async (fixed: string): Promise<string> => {
    if (!ports.has(fixed)) ports.set(fixed, await freePort());
    return String(ports.get(fixed));
  };

  /** A container path under one of the service's named volumes, as the folder standing in for it. */
  function hostPath(service: string, path: string): string {
    for (const mount of (compose.services[service].volumes ?? []) as string[]) {
      const [volume, target] = mount.split(':') as [string, string];
      if (volume.startsWith('.') || !(path === target || path.startsWith(`${target}/`))) continue;
      const dir = join(volumes, volume);
      mkdirSync(dir, { recursive: true });
      return join(dir, path.slice(target.length));
    }
    throw new Error(`${service}: ${path} is on no named volume`);
  }

  async function environment(service: string): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const [name, raw] of Object.entries(compose.services[service].environment ?? {})) {
      const value = String(raw);
      if (name === 'DATABASE_URL') env[name] = db.url;
      else if (name === 'REDIS_URL') env[name] = TEST_REDIS_URL;
      else if (name === 'HOST') env[name] = '127.0.0.1';
      else if (name === 'CLARION_SANDBOX_PUBLIC_HOST')
        env[name] = '127.0.0.1'; // the service name
      else if (name === 'PORT' || /^CLARION_SANDBOX_[A-Z]+_PORT$/.test(name)) env[name] = await port(value);
      else if (name.endsWith('_DIR')) env[name] = hostPath(service, value);
      else env[name] = value;
    }
    return { ...env, CLARION_QUEUE_PREFIX: prefix };
  }

  const fakeUrl = () => `http://127.0.0.1:${ports.get('4010')}`;
  let api: ClarionProcess;
  let adminToken: string;

  test('migrate, the sandbox, the API and the worker start with what the file gives them', async () => {
    const migrate = spawnSync(process.execPath, [serverMain, ...compose.services.migrate.command], {
      env: await environment('migrate'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(migrate.status, 0, migrate.stderr);

    const sandbox = spawn(process.execPath, [serverMain, ...compose.services.sandbox.command], {
      env: await environment('sandbox'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(sandbox);
    let out = '';
    sandbox.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor('the sandbox listening', () => out.includes('sandbox listening'));
    assert.match(out, new RegExp(`sandbox listening on http://127\\.0\\.0\\.1:${ports.get('4010')}`));

    for (const service of ['api', 'worker']) {
      assert.deepEqual(compose.services[service].command, ['start']);
      const env = await environment(service);
      const role = env.CLARION_ROLE as 'api' | 'worker';
      processes.push(await startClarionProcess({ main: serverMain, role, env, output: 'capture' }));
    }
    api = processes[0]!;
    adminToken = compose.services.api.environment.CLARION_ADMIN_TOKEN;
    const worker = processes[1]!;
    const running = worker.lines().find((l) => l.includes('running plugins'));
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
  });

  test('a notification to a user with every kind of address is sent on every channel', async () => {
    assert.ok(api, 'the services started');
    const created = await fetch(`${api.url}/admin/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'compose demo' }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { key } = (await created.json()) as { key: { appKey: string; appSecret: string } };
    const call = (path: string, method: string, body: unknown) =>
      fetch(`${api.url}${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const user = await call('/v1/users/demo', 'PUT', {
      email: 'demo@example.com',
      phone: '+15555550100',
      webhookUrl: `${fakeUrl()}/webhook/demo`,
    });
    assert.equal(user.status, 201, await user.text());
    const subscription = await fetch(`${fakeUrl()}/_sandbox/webpush/subscriptions`, { method: 'POST' });
    assert.equal(subscription.status, 201);
    for (const device of [
      { platform: 'ios', token: 'a1'.repeat(32) },
      { platform: 'android', token: 'compose-android-token' },
      { platform: 'web', subscription: await subscription.json() },
    ]) {
      const res = await call('/v1/users/demo/devices', 'POST', device);
      assert.equal(res.status, 201, await res.text());
    }
    const message = { title: 'Hello', body: 'Hello from Clarion' };
    const accepted = await call('/v1/notifications', 'POST', {
      to: { userId: 'demo' },
      content: {
        push: message,
        web: message,
        sms: { text: 'Hello from Clarion' },
        email: { subject: 'Hi', text: 'Hello from Clarion' },
        webhook: { json: { hello: 'world' } },
      },
    });
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const { id } = (await accepted.json()) as { id: string };
    const view = await waitFor('every delivery finished', async () => {
      const res = await call(`/v1/notifications/${id}`, 'GET', undefined);
      const body = (await res.json()) as { deliveries: { plugin: string; status: string }[] };
      return body.deliveries.length > 0 &&
        body.deliveries.every((d) => d.status !== 'pending' && d.status !== 'queued')
        ? body
        : undefined;
    });
    assert.deepEqual(view.deliveries.map((d) => `${d.plugin}:${d.status}`).sort(), [
      'apns:sent',
      'fcm:sent',
      'sendgrid:sent',
      'twilio:sent',
      'webhook:sent',
      'webpush:sent',
    ]);
  });
  test('the deploy README’s curl commands, run as written, deliver on every channel', async () => {
    assert.ok(api, 'the services started');
    // The indented block after "A first notification on every channel:", one statement per unindented line.
    const block = /A first notification on every channel:\n\n((?: {4}.*\n|\n)+)/.exec(readme)?.[1];
    assert.ok(block, 'the README’s request block');
    const statements: string[] = [];
    for (const line of block
      .trimEnd()
      .split('\n')
      .map((l) => l.slice(4))) {
      if (/^\S/.test(line)) statements.push(line);
      else statements[statements.length - 1] += `\n${line}`;
    }
    // Only what Docker and the reader provide is stood in for: the published ports and the
    // `sandbox` service name, and the reader copying the key from the first answer.
    const sandboxUrl = fakeUrl();
    const out = mkdtempSync(join(tmpdir(), 'clarion-readme-'));
    const appsAt = statements.findIndex((st) => st.includes('/admin/apps'));
    assert.ok(appsAt >= 0, 'the README creates an app');
    const script = statements
      .map((statement, i) => {
        let st = statement
          .replace(/ {2,}# .*$/gm, '')
          .replaceAll('http://localhost:3000', api.url)
          .replaceAll('http://localhost:4010', sandboxUrl)
          .replaceAll('http://sandbox:4010', sandboxUrl);
        if (st === 'KEY=<appKey>:<appSecret>')
          st = `KEY=$(node -e 'const {key}=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(key.appKey+":"+key.appSecret)' "${join(out, String(appsAt))}")`;
        return `{ ${st}\n} > "${join(out, String(i))}"`;
      })
      .join('\n');
    try {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const answers = statements.map((_, i) => readFileSync(join(out, String(i)), 'utf8'));
      for (const [i, answer] of answers.entries())
        assert.doesNotMatch(answer, /"error"/, `${statements[i]}\n→ ${answer}`);
      const { key } = JSON.parse(answers[appsAt]!) as { key: { appKey: string; appSecret: string } };
      const { id } = JSON.parse(answers[answers.length - 1]!) as { id: string };
      assert.ok(id, 'the last request accepted a notification');
      const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
      const view = await waitFor('every delivery finished', async () => {
        const res = await fetch(`${api.url}/v1/notifications/${id}`, { headers: { authorization: auth } });
        const body = (await res.json()) as { deliveries: { plugin: string; status: string }[] };
        return body.deliveries.length > 0 &&
          body.deliveries.every((d) => d.status !== 'pending' && d.status !== 'queued')
          ? body
          : undefined;
      });
      assert.deepEqual(view.deliveries.map((d) => `${d.plugin}:${d.status}`).sort(), [
        'apns:sent',
        'fcm:sent',
        'sendgrid:sent',
        'twilio:sent',
        'webhook:sent',
        'webpush:sent',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
