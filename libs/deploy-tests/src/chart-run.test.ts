import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pluginConfigToEnv } from '@clarion/plugin-sdk';
import { allFakes, Sandbox } from '@clarion/sandbox';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  imageNode,
  startClarionProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
  testRedis,
  waitFor,
} from '@clarion/testkit';
// Every answer from the Clarion processes started here is checked against the OpenAPI document.
import '@clarion/server/dist/testing/checked-fetch';
import { Client } from 'pg';
import { find, type K8sObject, mustRender, one } from './helm';
import { chartDir, deployDir } from './paths';

const readme = readFileSync(join(deployDir, 'README.md'), 'utf8');

const SECRETS = '/var/run/secrets/clarion/';
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** What an operator's provider Secrets hold, keyed by the variable the chart points at the file. */
const PROVIDER_SECRETS: Record<string, string> = {
  CLARION_APNS_SIGNING_KEY_FILE: ecKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  CLARION_FCM_SERVICE_ACCOUNT_JSON_FILE: JSON.stringify({
    type: 'service_account',
    project_id: 'example-project',
    client_email: 'clarion@example-project.iam.gserviceaccount.com',
    private_key: rsaKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }),
  CLARION_WEBPUSH_VAPID_PRIVATE_KEY_FILE: 'Lq44gEmHHcdhuUeTDBxG1qYk4p95BidhIFyWLOtjUqU',
  CLARION_TWILIO_AUTH_TOKEN_FILE: '0123456789abcdef0123456789abcdef',
  CLARION_SENDGRID_API_KEY_FILE: 'SG.an-api-key',
  CLARION_WEBHOOK_SECRET_FILE: 'a-webhook-signing-secret',
};
const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');

interface Container {
  args: string[];
  env: { name: string; value: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
}

/**
 * The chart's workloads run here as Kubernetes would run them: the image's entry point (`clarion`)
 * with the container's args, its ConfigMap and env, and its secrets as files, against a real
 * PostgreSQL and Redis. The migration hook once failed every `helm install`: it passes only
 * DATABASE_URL_FILE, which `clarion migrate` ignored.
 */
describe('the chart’s workloads, run for real', () => {
  let db: TestDatabase;
  let secrets: string;
  let sandbox: Sandbox;
  const prefix = testPrefix('chart');
  const objects = mustRender();
  before(async () => {
    db = await createTestDatabase('chartrun');
    secrets = mkdtempSync(join(tmpdir(), 'clarion-secrets-'));
    sandbox = await Sandbox.start({ fakes: allFakes() });
  });
  after(async () => {
    await sandbox?.stop();
    rmSync(secrets, { recursive: true, force: true });
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  /** The process environment of a container: its ConfigMaps, its env, secret paths moved to files here. */
  function environment(container: Container, rendered: K8sObject[] = objects): NodeJS.ProcessEnv {
    const contents: Record<string, string> = {
      DATABASE_URL_FILE: db.url,
      REDIS_URL_FILE: TEST_REDIS_URL,
      CLARION_ADMIN_TOKEN_FILE: 'an-admin-token-long-enough',
      CLARION_ENCRYPTION_KEY_FILE: Buffer.alloc(32, 1).toString('base64'),
      ...PROVIDER_SECRETS,
      ...secretOverrides,
    };
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef) Object.assign(env, one(rendered, 'ConfigMap', from.configMapRef.name).data);
    }
    // This run's own keys on the shared test Redis; the metrics port is a fixed one in the chart.
    const own = {
      CLARION_QUEUE_PREFIX: prefix,
      ...(env.CLARION_METRICS_PORT ? { CLARION_METRICS_PORT: '0' } : {}),
    };
    for (const { name, value } of container.env) {
      if (!value.startsWith(SECRETS)) {
        env[name] = value;
        continue;
      }
      const file = join(secrets, value.slice(SECRETS.length));
      mkdirSync(dirname(file), { recursive: true });
      // A trailing newline, as `kubectl create secret --from-file` keeps it.
      const content = contents[name];
      assert.ok(content !== undefined, `no test content for the secret file of ${name}`);
      writeFileSync(file, `${content}\n`);
      env[name] = file;
    }
    return { ...env, ...own };
  }
  /** Secret file contents a test puts in place of the defaults above, by `*_FILE` variable. */
  let secretOverrides: Record<string, string> = {};
  const containerOf = (o: K8sObject): Container => o.spec.template.spec.containers[0] as Container;

  test('the migration hook Job migrates the database with what it is given', async () => {
    const container = containerOf(one(objects, 'Job', 'clarion-migrate'));
    const env = environment(container);
    assert.equal(env.DATABASE_URL, undefined, 'the job passes the database URL only as a file');
    assert.ok(env.DATABASE_URL_FILE);
    const run = spawnSync(process.execPath, [serverMain, ...container.args], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^applied: Init\d+/);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('apps', 'deliveries', 'notifications')`,
      );
      assert.equal(rows[0]!.n, 3);
    } finally {
      await client.end();
    }
  });

  /**
   * Points a container's provider settings at the sandbox, as a trial would: the values of its
   * secret files and plain settings become the fake's endpoint and test keys, for the plugins
   * the container is configured with only (the rendered variables and file paths stay).
   */
  function sandboxed(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const out: NodeJS.ProcessEnv = { ...env, CLARION_OUTBOUND_ALLOW_PRIVATE: 'true' };
    for (const [plugin, config] of Object.entries(sandbox.pluginConfigs())) {
      const own = `CLARION_${plugin.toUpperCase()}_`;
      if (!Object.keys(env).some((name) => name.startsWith(own))) continue;
      for (const [name, value] of Object.entries(pluginConfigToEnv(plugin, config))) {
        const file = env[`${name}_FILE`];
        if (file) writeFileSync(file, `${value}\n`);
        else out[name] = value;
      }
    }
    return out;
  }

  /**
   * The rendered Deployments of one values set, each started as its container runs and required
   * to become ready; all of them keep running while `deliver` (if given) sends through them.
   */
  async function runDeployments(
    rendered: K8sObject[],
    deliver?: (api: ClarionProcess, workerPlugins: string[]) => Promise<void>,
  ): Promise<string[]> {
    const started: string[] = [];
    const running: ClarionProcess[] = [];
    const workerPlugins: string[] = [];
    try {
      for (const workload of find(rendered, 'Deployment')) {
        const container = containerOf(workload);
        let env = environment(container, rendered);
        // What startClarionProcess runs and polls: the container's command and its readiness probe.
        assert.deepEqual(container.args, ['start']);
        assert.equal(workload.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/readyz');
        const role = env.CLARION_ROLE as 'api' | 'worker';
        assert.ok(role === 'api' || role === 'worker', `role ${role}`);
        if (deliver) env = sandboxed(env);
        // It picks a free port (the chart's 3000 may be taken here) and resolves once /readyz answers 200.
        // Node as the image starts it: its heap caps (unless the chart sets NODE_OPTIONS) and its V8 flags.
        const image = imageNode();
        env = { NODE_OPTIONS: image.nodeOptions, ...env };
        const proc = await startClarionProcess({
          main: serverMain,
          role,
          env,
          output: 'capture',
          nodeArgs: image.nodeArgs,
        }).catch((error: Error) => {
          throw new Error(`${workload.metadata.name}: ${error.message}`);
        });
        running.push(proc);
        assert.ok(
          proc.lines().some((l) => l.includes(`"role":"${role}"`)),
          'it runs the role the chart gives it',
        );
        if (role === 'worker') {
          const line = proc.lines().find((l) => l.includes('running plugins'));
          workerPlugins.push(...(/running plugins: ([^"]*)/.exec(line ?? '')?.[1]?.split(/,\s*/) ?? []));
        }
        started.push(workload.metadata.name);
      }
      if (deliver) {
        const api = running.find((p) => p.role === 'api');
        assert.ok(api, 'an API Deployment');
        await deliver(
          api,
          workerPlugins.map((p) => p.trim()).filter((p) => p && p !== '(none)'),
        );
      }
    } finally {
      for (const proc of running) await proc.stop();
    }
    return started;
  }

  /**
   * Through the running pods: an app, a user with every kind of address, one notification with
   * content for every channel; each plugin the worker pools run must deliver it (`sent`), and
   * the sandbox must have received it.
   */
  let demo = 0;
  async function deliverOnEveryChannel(api: ClarionProcess, workerPlugins: string[]): Promise<void> {
    assert.ok(workerPlugins.length > 0, 'the worker pools run plugins');
    demo++;
    const created = await fetch(`${api.url}/admin/apps`, {
      method: 'POST',
      headers: { authorization: 'Bearer an-admin-token-long-enough', 'content-type': 'application/json' },
      body: JSON.stringify({ name: `chart run ${demo}` }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { key } = (await created.json()) as { key: { appKey: string; appSecret: string } };
    const call = (path: string, method: string, body?: unknown) =>
      fetch(`${api.url}${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const user = await call('/v1/users/demo', 'PUT', {
      email: 'demo@example.com',
      phone: '+15555550100',
      webhookUrl: `${sandbox.url}/webhook/chart-${demo}`,
    });
    assert.equal(user.status, 201, await user.text());
    const vapid = sandbox.pluginConfigs().webpush?.vapidPublicKey;
    const subscription = await fetch(`${sandbox.url}/_sandbox/webpush/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ applicationServerKey: vapid }),
    });
    assert.equal(subscription.status, 201);
    for (const device of [
      { platform: 'ios', token: 'c1'.repeat(32) },
      { platform: 'android', token: `chart-android-token-${demo}` },
      // A web device only where a pool runs Web Push (without it, its delivery is suppressed).
      ...(workerPlugins.includes('webpush')
        ? [{ platform: 'web', subscription: await subscription.json() }]
        : []),
    ]) {
      const res = await call('/v1/users/demo/devices', 'POST', device);
      assert.equal(res.status, 201, await res.text());
    }
    const message = { title: 'Hello', body: 'Hello from the chart' };
    const accepted = await call('/v1/notifications', 'POST', {
      to: { userId: 'demo' },
      content: {
        push: message,
        // Web content only where a pool runs Web Push (else its delivery is suppressed: no provider).
        ...(workerPlugins.includes('webpush') ? { web: message } : {}),
        sms: { text: 'Hello from the chart' },
        email: { subject: 'Hi', text: 'Hello from the chart' },
        webhook: { json: { hello: 'chart' } },
      },
    });
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const { id } = (await accepted.json()) as { id: string };
    const view = await waitFor('every delivery finished', async () => {
      const res = await call(`/v1/notifications/${id}`, 'GET');
      const body = (await res.json()) as {
        deliveries: { plugin: string | null; channel: string; status: string; reason?: string }[];
      };
      return body.deliveries.length > 0 &&
        body.deliveries.every((d) => d.status !== 'pending' && d.status !== 'queued')
        ? body
        : undefined;
    });
    assert.deepEqual(
      view.deliveries.map((d) => `${d.plugin ?? `${d.channel} (${d.reason})`}:${d.status}`).sort(),
      [...new Set(workerPlugins)].sort().map((p) => `${p}:sent`),
    );
  }

  test('with the default values, the API and the worker start and pass their readiness probes', async () => {
    assert.deepEqual(await runDeployments(objects), ['clarion-api', 'clarion-worker-default']);
  });

  const ciDir = join(chartDir, 'ci');
  for (const file of readdirSync(ciDir).filter((f) => f.endsWith('.yaml'))) {
    test(`with ci/${file}, every rendered Deployment starts, passes its readiness probe and delivers on every channel its pools run`, async () => {
      const started = await runDeployments(mustRender(['-f', join(ciDir, file)]), deliverOnEveryChannel);
      assert.ok(started.length >= 2, started.join(', '));
    });
  }

  test('two worker pools, each with only its own providers’ credentials, start and deliver on every channel', async () => {
    const values = join(secrets, 'two-pools.yaml');
    writeFileSync(
      values,
      JSON.stringify({
        // No CLARION_PLUGINS: the configured built-ins, each pool validating only its own.
        providers: {
          apns: {
            existingSecret: 'clarion-apns',
            files: { SIGNING_KEY: 'signing-key.p8' },
            env: { TEAM_ID: 'ABCDE12345', KEY_ID: 'KEY1234567', TOPIC: 'com.example.app' },
          },
          fcm: { existingSecret: 'clarion-fcm', files: { SERVICE_ACCOUNT_JSON: 'service-account.json' } },
          twilio: {
            existingSecret: 'clarion-twilio',
            files: { AUTH_TOKEN: 'auth-token' },
            env: { ACCOUNT_SID: 'AC00000000000000000000000000000000', FROM: '+15005550006' },
          },
          sendgrid: {
            existingSecret: 'clarion-sendgrid',
            files: { API_KEY: 'api-key' },
            env: { FROM: 'notify@example.com' },
          },
          webhook: { existingSecret: 'clarion-webhook', files: { SECRET: 'signing-secret' } },
        },
        workers: {
          pools: [
            { name: 'push', plugins: ['apns', 'fcm'] },
            { name: 'messaging', plugins: ['twilio', 'sendgrid', 'webhook'] },
          ],
        },
      }),
    );
    const rendered = mustRender(['-f', values]);
    const push = containerOf(one(rendered, 'Deployment', 'clarion-worker-push'));
    assert.ok(
      !push.env.some((e) => e.name.startsWith('CLARION_TWILIO_')),
      'the push pool holds no Twilio secret',
    );
    assert.deepEqual(await runDeployments(rendered, deliverOnEveryChannel), [
      'clarion-api',
      'clarion-worker-push',
      'clarion-worker-messaging',
    ]);
  });
  test('the deploy README’s Secret and helm install: the keys the default pods mount, generated as written, start them', async () => {
    // The README's Helm block, continuation lines joined.
    const block = /Create the Secret the default values expect[^\n]*\n\n((?: {4}.*\n)+)/.exec(readme)?.[1];
    assert.ok(block, 'the README’s Helm block');
    const statements = block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    assert.ok(statements.includes('kubectl create namespace clarion'), statements.join('\n'));
    const create = statements.find((st) => st.startsWith('kubectl -n clarion create secret generic '));
    assert.ok(create, 'a kubectl create secret line');
    const secretName = /create secret generic (\S+)/.exec(create)?.[1];
    // Each --from-literal's value as the shell gives it (quotes removed, $(openssl …) run).
    const literals: Record<string, string> = {};
    for (const [, key, value] of create.matchAll(/--from-literal=([a-z-]+)=("[^"]*"|'[^']*'|\S+)/g)) {
      const shell = spawnSync('bash', ['-euo', 'pipefail', '-c', `printf %s ${value}`], { encoding: 'utf8' });
      assert.equal(shell.status, 0, shell.stderr);
      literals[key!] = shell.stdout;
    }
    const install = statements.find((st) => st.startsWith('helm install '));
    const [, release, chart, namespace] = /^helm install (\S+) (\S+) -n (\S+)/.exec(install ?? '') ?? [];
    assert.equal(chart, 'deploy/helm/clarion');
    const rendered = mustRender([], release, namespace);
    // Every key of that Secret the default pods mount (projected volumes, secretKeyRef) is created.
    const mounted = new Set<string>();
    const podSpecs = [...find(rendered, 'Deployment'), ...find(rendered, 'Job')].map(
      (o) => o.spec.template.spec,
    );
    for (const spec of podSpecs) {
      for (const volume of spec.volumes ?? [])
        for (const source of volume.projected?.sources ?? [])
          if (source.secret?.name === secretName)
            for (const item of source.secret.items) mounted.add(item.key);
      for (const c of spec.containers)
        for (const e of c.env ?? [])
          if (e.valueFrom?.secretKeyRef?.name === secretName) mounted.add(e.valueFrom.secretKeyRef.key);
    }
    assert.ok(mounted.size > 0, `the default pods mount Secret ${secretName}`);
    assert.deepEqual([...mounted].sort(), Object.keys(literals).sort());
    // The generated admin token and encryption key are accepted: the default pods start with them
    // (the URLs are this machine's in place of the README's cluster addresses).
    assert.match(literals['admin-token'] ?? '', /^[0-9a-f]{48}$/);
    secretOverrides = {
      CLARION_ADMIN_TOKEN_FILE: literals['admin-token']!,
      CLARION_ENCRYPTION_KEY_FILE: literals['encryption-key']!,
    };
    try {
      assert.deepEqual(await runDeployments(rendered), [`${release}-api`, `${release}-worker-default`]);
    } finally {
      secretOverrides = {};
    }
  });
});
