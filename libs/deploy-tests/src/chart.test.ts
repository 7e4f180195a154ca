// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests and parsed YAML are untyped JSON
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { find, type K8sObject, mustRender, one, render } from './helm';
import { check } from './k8s-schemas';
import { chartDir, deployDir, prometheusTool, run } from './paths';

const FULL = ['-f', join(chartDir, 'ci', 'full-values.yaml')];
const CRDS = ['--api-versions', 'keda.sh/v1alpha1', '--api-versions', 'monitoring.coreos.com/v1'];

const defaults = mustRender();
const full = mustRender([...FULL, ...CRDS], 'clarion', 'notify');

function podSpec(o: K8sObject): any {
  return o.spec.template.spec;
}
function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
function envOf(container: any): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
}
function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
}

describe('helm chart: rendering and Kubernetes schemas', () => {
  test('default values render the API, one worker pool, the migration hook and nothing opt-in', () => {
    const kinds = defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      'ConfigMap/clarion',
      'Deployment/clarion-api',
      'Deployment/clarion-worker-default',
      'Job/clarion-migrate',
      'PodDisruptionBudget/clarion-api',
      'PodDisruptionBudget/clarion-worker-default',
      'Service/clarion-api',
      'Service/clarion-worker',
      'ServiceAccount/clarion',
    ]);
  });

  test('the schema check itself catches wrong types, missing fields and unknown fields (also in CRDs)', async () => {
    const api = structuredClone(one(defaults, 'Deployment', 'clarion-api'));
    api.spec.template.spec.containers[0].readinesProbe = api.spec.template.spec.containers[0].readinessProbe;
    api.spec.template.spec.containers[0].ports[0].containerPort = '3000';
    delete api.spec.selector;
    const problems = await check(api);
    assert.ok(
      problems.some((p) => p.includes('/spec/template/spec/containers/0/readinesProbe: unknown field')),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => p.includes('containerPort: type {"type":"integer"}')),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => p.includes('/spec: required {"missingProperty":"selector"}')),
      problems.join('; '),
    );
    const scaled = structuredClone(one(full, 'ScaledObject', 'clarion-worker-push'));
    scaled.spec.minReplicas = 1;
    assert.deepEqual(await check(scaled), ['/spec/minReplicas: unknown field']);
    const sm = structuredClone(one(full, 'ServiceMonitor', 'clarion'));
    sm.spec.endpoints[0].intervall = '10s';
    assert.deepEqual(await check(sm), ['/spec/endpoints/0/intervall: unknown field']);
  });

  for (const [name, objects] of [
    ['default', defaults],
    ['full-featured', full],
  ] as const) {
    test(`every object of the ${name} render is valid against its schema (no unknown fields)`, async () => {
      const problems: string[] = [];
      for (const o of objects) {
        for (const p of await check(o)) problems.push(`${o.kind}/${o.metadata.name}${p}`);
      }
      assert.deepEqual(problems, []);
    });

    test(`${name}: every object has the app.kubernetes.io labels and the release namespace`, () => {
      for (const o of objects) {
        const l = o.metadata.labels ?? {};
        for (const key of [
          'app.kubernetes.io/name',
          'app.kubernetes.io/instance',
          'app.kubernetes.io/version',
          'app.kubernetes.io/managed-by',
          'helm.sh/chart',
        ]) {
          assert.ok(l[key], `${o.kind}/${o.metadata.name} lacks label ${key}`);
        }
        assert.equal(
          o.metadata.namespace,
          name === 'default' ? 'clarion' : 'notify',
          `${o.kind}/${o.metadata.name} namespace`,
        );
      }
    });

    test(`${name}: selectors match the pod labels they are meant for, and only those`, () => {
      const deployments = find(objects, 'Deployment');
      for (const d of deployments) {
        assert.ok(
          matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels),
          `${d.metadata.name} selector vs template labels`,
        );
        const others = deployments.filter(
          (x) => x !== d && matches(d.spec.selector.matchLabels, x.spec.template.metadata.labels),
        );
        assert.deepEqual(
          others.map((x) => x.metadata.name),
          [],
          `${d.metadata.name} selector overlaps`,
        );
      }
      const selected = (sel: Record<string, string>) =>
        deployments
          .filter((d) => matches(sel, d.spec.template.metadata.labels))
          .map((d) => d.metadata.name)
          .sort();
      const api = one(objects, 'Service', 'clarion-api');
      assert.deepEqual(selected(api.spec.selector), ['clarion-api']);
      const workerSvc = one(objects, 'Service', 'clarion-worker');
      assert.deepEqual(
        selected(workerSvc.spec.selector),
        deployments
          .filter((d) => d.metadata.name.startsWith('clarion-worker-'))
          .map((d) => d.metadata.name)
          .sort(),
      );
      for (const pdb of find(objects, 'PodDisruptionBudget')) {
        assert.deepEqual(
          selected(pdb.spec.selector.matchLabels),
          [pdb.metadata.name],
          `PDB ${pdb.metadata.name}`,
        );
      }
      for (const np of find(objects, 'NetworkPolicy')) {
        assert.ok(
          selected(np.spec.podSelector.matchLabels).length > 0,
          `NetworkPolicy ${np.metadata.name} selects no pod`,
        );
      }
      for (const scaler of [...find(objects, 'HorizontalPodAutoscaler'), ...find(objects, 'ScaledObject')]) {
        const target = scaler.spec.scaleTargetRef;
        assert.equal(target.kind ?? 'Deployment', 'Deployment');
        one(objects as K8sObject[], 'Deployment', target.name);
      }
      for (const svc of find(objects, 'Service')) {
        for (const port of svc.spec.ports) {
          const d = deployments.find((x) => matches(svc.spec.selector, x.spec.template.metadata.labels));
          if (!d) throw new Error(`Service ${svc.metadata.name} selects nothing`);
          const names = podSpec(d).containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
          assert.ok(
            names.includes(port.targetPort),
            `Service ${svc.metadata.name} targets port ${port.targetPort}`,
          );
        }
      }
    });

    test(`${name}: probes on /healthz and /readyz, non-root, read-only root with /tmp, graceful termination`, () => {
      const configMap = one(objects, 'ConfigMap', 'clarion');
      const shutdownMs = Number(configMap.data?.CLARION_SHUTDOWN_TIMEOUT_MS);
      for (const w of workloads(objects)) {
        const spec = podSpec(w);
        assert.equal(spec.securityContext.runAsNonRoot, true, `${w.metadata.name} runAsNonRoot`);
        assert.ok(spec.securityContext.runAsUser > 0);
        assert.equal(spec.automountServiceAccountToken, false, `${w.metadata.name} automounts a token`);
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          assert.equal(
            c.securityContext.readOnlyRootFilesystem,
            true,
            `${w.metadata.name}/${c.name} read-only root`,
          );
          assert.equal(c.securityContext.allowPrivilegeEscalation, false);
          assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
          const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');
          assert.ok(tmp, `${w.metadata.name}/${c.name} has no writable /tmp`);
          assert.ok(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir, '/tmp is an emptyDir');
        }
        if (w.kind !== 'Deployment') continue;
        const [c] = spec.containers;
        assert.deepEqual(c.ports, [
          { name: 'http', containerPort: 3000, protocol: 'TCP' },
          { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
        ]);
        assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
        assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
        assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 'http' });
        assert.ok(
          spec.terminationGracePeriodSeconds * 1000 > shutdownMs,
          `${w.metadata.name}: grace period ${spec.terminationGracePeriodSeconds}s <= shutdown ${shutdownMs}ms`,
        );
        assert.ok(c.resources.requests, `${w.metadata.name} has resource requests`);
      }
    });

    test(`${name}: secrets reach the processes only as files (*_FILE), from mounted Secret volumes`, () => {
      for (const w of workloads(objects)) {
        const spec = podSpec(w);
        const [c] = spec.containers;
        const env = envOf(c);
        for (const plain of ['DATABASE_URL', 'REDIS_URL', 'CLARION_ADMIN_TOKEN', 'CLARION_ENCRYPTION_KEY']) {
          assert.equal(env[plain], undefined, `${w.metadata.name} has ${plain} in plain env`);
          const file = env[`${plain}_FILE`];
          assert.ok(file, `${w.metadata.name} lacks ${plain}_FILE`);
        }
        for (const [key, file] of Object.entries(env).filter(([k]) => k.endsWith('_FILE'))) {
          const mount = c.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
          assert.ok(mount, `${w.metadata.name}: ${key}=${file} is not under a mount`);
          assert.equal(mount.readOnly, true);
          const volume = spec.volumes.find((v: any) => v.name === mount.name);
          const rel = file.slice(mount.mountPath.length + 1);
          const items = volume.secret
            ? volume.secret.items
            : volume.projected.sources.flatMap((s: any) => s.secret.items);
          assert.ok(
            items.some((i: any) => i.path === rel),
            `${w.metadata.name}: ${file} is not projected from a Secret`,
          );
        }
        assert.ok(!(c.envFrom ?? []).some((e: any) => e.secretRef), 'no secret as envFrom');
      }
    });
  }
});

describe('helm chart: README', () => {
  test('the chart has a README that names every top-level value', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(values)) assert.ok(readme.includes(`\`${key}\``), `README lacks ${key}`);
    assert.match(readme, /must exist first/);
  });
});

describe('helm chart: names and labels', () => {
  test('a long release name keeps every name within 63 characters, suffixes intact and names distinct', () => {
    const release = 'a-long-release-name-for-the-notification-service'; // helm allows 53
    const objects = mustRender([...FULL, ...CRDS, '--set', 'fullnameOverride='], release, 'notify');
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const o of objects)
      assert.ok(o.metadata.name.length <= 63, `${o.metadata.name} (${o.metadata.name.length})`);
    assert.equal(new Set(names).size, names.length, names.join(', '));
    for (const pool of ['push', 'messaging', 'custom'])
      assert.ok(
        names.some((n) => n.startsWith('Deployment/') && n.endsWith(`-worker-${pool}`)),
        pool,
      );
    assert.ok(names.some((n) => n.startsWith('Deployment/') && n.endsWith('-api')));
  });

  test('a build version (1.2.3+build.7) becomes a valid label value', () => {
    const copy = mkdtempSync(join(tmpdir(), 'clarion-chart-'));
    try {
      cpSync(chartDir, copy, { recursive: true });
      const chartYaml = join(copy, 'Chart.yaml');
      writeFileSync(
        chartYaml,
        readFileSync(chartYaml, 'utf8').replace(/^appVersion: .*$/m, 'appVersion: "1.2.3+build.7"'),
      );
      const result = render([], 'clarion', 'clarion', copy);
      assert.ok(result.ok, result.stderr);
      for (const o of result.objects)
        if (o.metadata.labels?.['app.kubernetes.io/version'] !== undefined)
          assert.equal(o.metadata.labels['app.kubernetes.io/version'], '1.2.3_build.7', o.metadata.name);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('a key in both commonLabels and podLabels is one label (pod labels win), and selectors stay intact', () => {
    const objects = mustRender([
      '--set',
      'commonLabels.team=platform',
      '--set',
      'podLabels.team=messaging',
      '--set',
      'api.podLabels.team=api-team',
      '--set-string',
      'podAnnotations.a=1',
      '--set-string',
      'api.podAnnotations.a=2',
    ]);
    const api = one(objects, 'Deployment', 'clarion-api');
    assert.equal(api.metadata.labels?.team, 'platform');
    assert.equal(api.spec.template.metadata.labels.team, 'api-team');
    assert.equal(api.spec.template.metadata.annotations.a, '2');
    assert.equal(
      one(objects, 'Deployment', 'clarion-worker-default').spec.template.metadata.labels.team,
      'messaging',
    );
    for (const d of find(objects, 'Deployment'))
      assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name);
  });
});

describe('helm chart: budgets, egress, init resources', () => {
  test('a PodDisruptionBudget may keep a minimum available instead of a maximum unavailable', () => {
    const objects = mustRender([
      '--set',
      'api.pdb.minAvailable=1',
      '--set',
      'workers.poolDefaults.pdb.minAvailable=50%',
    ]);
    assert.deepEqual(
      [
        one(objects, 'PodDisruptionBudget', 'clarion-api').spec.minAvailable,
        one(objects, 'PodDisruptionBudget', 'clarion-api').spec.maxUnavailable,
      ],
      [1, undefined],
    );
    assert.equal(one(objects, 'PodDisruptionBudget', 'clarion-worker-default').spec.minAvailable, '50%');
    assert.equal(one(defaults, 'PodDisruptionBudget', 'clarion-api').spec.maxUnavailable, 1);
  });

  test('restricted egress still allows DNS', () => {
    const objects = mustRender([
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'networkPolicy.egress[0].ports[0].port=443',
    ]);
    const egress = one(objects, 'NetworkPolicy', 'clarion-worker').spec.egress;
    assert.ok(
      egress.some((r: any) => r.ports?.some((p: any) => p.port === 53 && p.protocol === 'UDP')),
      JSON.stringify(egress),
    );
    assert.ok(egress.some((r: any) => r.ports?.some((p: any) => p.port === 443)));
  });

  test('the extraPlugins init container has resources by default', () => {
    const objects = mustRender(['--set', 'extraPlugins.packages[0]=@acme/clarion-plugin-pager@1.2.3']);
    const init = one(objects, 'Deployment', 'clarion-api').spec.template.spec.initContainers[0];
    assert.ok(
      init.resources?.requests?.memory && init.resources?.limits?.memory,
      JSON.stringify(init.resources),
    );
  });
});

describe('helm chart: features', () => {
  const deployment = (n: string) => one(full, 'Deployment', n);
  const container = (n: string) => podSpec(deployment(n)).containers[0];

  test('worker pools are rendered as asked: plugins, concurrency, replicas, resources, scheduling', () => {
    const pools = find(full, 'Deployment')
      .map((d) => d.metadata.name)
      .filter((n) => n.includes('worker'))
      .sort();
    assert.deepEqual(pools, ['clarion-worker-custom', 'clarion-worker-messaging', 'clarion-worker-push']);
    assert.deepEqual(envOf(container('clarion-worker-push')).CLARION_WORKER_PLUGINS, 'apns,fcm,webpush');
    assert.deepEqual(envOf(container('clarion-worker-push')).CLARION_WORKER_CONCURRENCY, '200');
    assert.deepEqual(envOf(container('clarion-worker-messaging')).CLARION_WORKER_PLUGINS, 'twilio,sendgrid');
    assert.equal(envOf(container('clarion-worker-push')).CLARION_ROLE, 'worker');
    assert.equal(envOf(container('clarion-api')).CLARION_ROLE, 'api');
    assert.deepEqual(container('clarion-worker-push').resources, {
      requests: { cpu: '1', memory: '512Mi' },
      limits: { memory: '1Gi' },
    });
    // pool defaults fill what a pool leaves out
    assert.deepEqual(container('clarion-worker-custom').resources, {
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { memory: '512Mi' },
    });
    assert.equal(deployment('clarion-worker-custom').spec.replicas, 1);
    assert.equal(
      deployment('clarion-worker-push').spec.replicas,
      undefined,
      'autoscaled pools leave replicas to the autoscaler',
    );
    assert.deepEqual(podSpec(deployment('clarion-worker-messaging')).nodeSelector, { workload: 'messaging' });
    assert.equal(podSpec(deployment('clarion-worker-push')).terminationGracePeriodSeconds, 120);
    assert.equal(
      find(full, 'PodDisruptionBudget', 'clarion-worker-messaging').length,
      0,
      'pdb.enabled=false on a pool',
    );
    assert.equal(find(full, 'PodDisruptionBudget', 'clarion-worker-push').length, 1);
    assert.equal(
      envOf(container('clarion-worker-custom')).CLARION_WORKER_CONCURRENCY,
      undefined,
      'concurrency 0 = plugin default',
    );
  });

  test('provider credentials: each pool mounts only its plugins, the API all, with CLARION_<PLUGIN>_<KEY>_FILE', () => {
    const fileEnv = (n: string) =>
      Object.keys(envOf(container(n)))
        .filter((k) => k.startsWith('CLARION_') && k.endsWith('_FILE'))
        .sort();
    assert.deepEqual(fileEnv('clarion-worker-push'), [
      'CLARION_ADMIN_TOKEN_FILE',
      'CLARION_APNS_SIGNING_KEY_FILE',
      'CLARION_ENCRYPTION_KEY_FILE',
      'CLARION_FCM_SERVICE_ACCOUNT_JSON_FILE',
      'CLARION_WEBPUSH_VAPID_PRIVATE_KEY_FILE',
    ]);
    assert.deepEqual(fileEnv('clarion-worker-messaging'), [
      'CLARION_ADMIN_TOKEN_FILE',
      'CLARION_ENCRYPTION_KEY_FILE',
      'CLARION_SENDGRID_API_KEY_FILE',
      'CLARION_TWILIO_AUTH_TOKEN_FILE',
    ]);
    assert.deepEqual(fileEnv('clarion-api'), [
      'CLARION_ADMIN_TOKEN_FILE',
      'CLARION_APNS_SIGNING_KEY_FILE',
      'CLARION_ENCRYPTION_KEY_FILE',
      'CLARION_FCM_SERVICE_ACCOUNT_JSON_FILE',
      'CLARION_SENDGRID_API_KEY_FILE',
      'CLARION_TWILIO_AUTH_TOKEN_FILE',
      'CLARION_WEBHOOK_SECRET_FILE',
      'CLARION_WEBPUSH_VAPID_PRIVATE_KEY_FILE',
    ]);
    assert.equal(
      envOf(container('clarion-worker-push')).CLARION_APNS_SIGNING_KEY_FILE,
      '/var/run/secrets/clarion/providers/apns/signing-key.p8',
    );
    const apnsVolume = podSpec(deployment('clarion-worker-push')).volumes.find(
      (v: any) => v.name === 'provider-apns',
    );
    assert.deepEqual(apnsVolume.secret, {
      secretName: 'clarion-apns',
      defaultMode: 0o440,
      items: [{ key: 'signing-key.p8', path: 'signing-key.p8' }],
    });
    const cm = one(full, 'ConfigMap', 'clarion');
    assert.equal(cm.data?.CLARION_APNS_TEAM_ID, 'ABCDE12345');
    assert.equal(cm.data?.CLARION_TWILIO_ACCOUNT_SID, 'AC00000000000000000000000000000000');
    assert.equal(cm.data?.CLARION_DEDUP_WINDOW_HOURS, '72');
    assert.equal(cm.data?.CLARION_MIGRATE_ON_START, 'false');
    assert.equal(cm.data?.CLARION_SHUTDOWN_TIMEOUT_MS, '45000');
    assert.equal(cm.data?.CLARION_PLUGIN_PATH, '/app/plugins-extra/node_modules');
    assert.ok(cm.data?.CLARION_PLUGINS?.split(',').includes('@clarion/plugin-webhook'));
  });

  test('inline URLs go to a chart-managed Secret; existing Secrets are referenced by name and key', () => {
    const core = one(full, 'Secret', 'clarion-core');
    assert.deepEqual(Object.keys(core.data ?? {}).sort(), ['database-url', 'redis-url']);
    assert.equal(
      Buffer.from(core.data?.['database-url'] ?? '', 'base64').toString(),
      'postgres://clarion:secret@postgres.db.svc:5432/clarion',
    );
    const sources = podSpec(deployment('clarion-api'))
      .volumes.find((v: any) => v.name === 'core-secrets')
      .projected.sources.map((s: any) => [s.secret.name, s.secret.items[0].key, s.secret.items[0].path]);
    assert.deepEqual(sources, [
      ['clarion-core', 'database-url', 'database-url'],
      ['clarion-core', 'redis-url', 'redis-url'],
      ['clarion-admin', 'token', 'admin-token'],
      ['clarion-admin', 'encryption-key', 'encryption-key'],
    ]);
    assert.equal(
      find(defaults, 'Secret').length,
      0,
      'no Secret is created when all come from existing Secrets',
    );
  });

  test('Redis through Sentinels: redis.sentinels and redis.sentinelMaster reach every process; unset, neither is set', () => {
    const objects = mustRender([
      '--set-json',
      'redis.sentinels=["sentinel-0.redis:26379","sentinel-1.redis:26379"]',
      '--set',
      'redis.sentinelMaster=clarion',
    ]);
    const cm = one(objects, 'ConfigMap', 'clarion');
    assert.equal(cm.data?.REDIS_SENTINELS, 'sentinel-0.redis:26379,sentinel-1.redis:26379');
    assert.equal(cm.data?.REDIS_SENTINEL_MASTER, 'clarion');
    for (const w of workloads(objects).filter((o) => o.kind === 'Deployment')) {
      const refs = podSpec(w).containers[0].envFrom?.map((e: any) => e.configMapRef?.name);
      assert.ok(refs?.includes('clarion'), `${w.metadata.name} reads the ConfigMap`);
    }
    const plain = one(defaults, 'ConfigMap', 'clarion');
    assert.equal(plain.data?.REDIS_SENTINELS, undefined);
    assert.equal(plain.data?.REDIS_SENTINEL_MASTER, undefined);
    const refused = render(['--set-json', 'redis.sentinels=["a:26379,b:26379"]']);
    assert.equal(refused.ok, false, 'one host:port per entry');
  });

  test('Redis Cluster: redis.clusterNodes reaches every process; unset, it is not set', () => {
    const objects = mustRender([
      '--set-json',
      'redis.clusterNodes=["redis-0.redis:6379","redis-1.redis:6379"]',
    ]);
    const cm = one(objects, 'ConfigMap', 'clarion');
    assert.equal(cm.data?.REDIS_CLUSTER_NODES, 'redis-0.redis:6379,redis-1.redis:6379');
    assert.equal(one(defaults, 'ConfigMap', 'clarion').data?.REDIS_CLUSTER_NODES, undefined);
    const refused = render(['--set-json', 'redis.clusterNodes=["a:6379,b:6379"]']);
    assert.equal(refused.ok, false, 'one host:port per entry');
  });

  test('the migration Job is a pre-install/pre-upgrade hook that needs nothing the release creates later', () => {
    for (const objects of [defaults, full]) {
      const job = one(objects, 'Job', 'clarion-migrate');
      assert.equal(job.metadata.annotations?.['helm.sh/hook'], 'pre-install,pre-upgrade');
      assert.equal(
        job.metadata.annotations?.['helm.sh/hook-delete-policy'],
        'before-hook-creation,hook-succeeded',
      );
      const spec = podSpec(job);
      assert.equal(spec.restartPolicy, 'Never');
      assert.deepEqual(spec.containers[0].args, ['migrate']);
      assert.equal(
        spec.containers[0].envFrom,
        undefined,
        'no ConfigMap: it does not exist yet at pre-install',
      );
      assert.equal(
        spec.serviceAccountName,
        undefined,
        'the chart-created ServiceAccount does not exist yet at pre-install',
      );
      const env = envOf(spec.containers[0]);
      assert.equal(env.CLARION_QUEUE_PREFIX, '{clarion}');
      const hookSecrets = new Set(
        objects.filter((o) => o.metadata.annotations?.['helm.sh/hook']).map((o) => o.metadata.name),
      );
      const released = new Set(
        objects
          .filter((o) => o.kind === 'Secret' && !o.metadata.annotations?.['helm.sh/hook'])
          .map((o) => o.metadata.name),
      );
      for (const v of spec.volumes) {
        for (const s of v.projected?.sources ?? []) {
          assert.ok(!released.has(s.secret.name), `the hook mounts release Secret ${s.secret.name}`);
          if (s.secret.name.startsWith('clarion-migration')) assert.ok(hookSecrets.has(s.secret.name));
        }
      }
    }
    const hookSecret = one(full, 'Secret', 'clarion-migration');
    assert.ok(
      Number(hookSecret.metadata.annotations?.['helm.sh/hook-weight']) <
        Number(one(full, 'Job', 'clarion-migrate').metadata.annotations?.['helm.sh/hook-weight']),
    );
    assert.deepEqual(find(mustRender(['--set', 'migration.enabled=false']), 'Job'), []);
  });

  test('KEDA ScaledObject on the pool queues when KEDA is installed, else an HPA on CPU', () => {
    const scaled = find(full, 'ScaledObject')
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(scaled, ['clarion-worker-messaging', 'clarion-worker-push']);
    assert.deepEqual(
      find(full, 'HorizontalPodAutoscaler').map((o) => o.metadata.name),
      ['clarion-api'],
    );
    const push = one(full, 'ScaledObject', 'clarion-worker-push');
    const [trigger] = push.spec.triggers;
    assert.equal(trigger.type, 'prometheus');
    assert.equal(trigger.metadata.threshold, '500');
    assert.equal(trigger.metadata.serverAddress, 'http://prometheus-operated.monitoring.svc:9090');
    assert.equal(
      trigger.metadata.query,
      'sum(max by (queue, state) (clarion_queue_jobs{queue=~"clarion\\\\.(apns|fcm|webpush)",state=~"waiting|prioritized|active",namespace="notify"}))',
    );
    assert.equal(push.spec.minReplicaCount, 2);
    assert.equal(one(full, 'ScaledObject', 'clarion-worker-messaging').spec.minReplicaCount, 0);

    const noKeda = mustRender([...FULL, '--api-versions', 'monitoring.coreos.com/v1']);
    assert.deepEqual(find(noKeda, 'ScaledObject'), []);
    assert.deepEqual(
      find(noKeda, 'HorizontalPodAutoscaler')
        .map((o) => o.metadata.name)
        .sort(),
      ['clarion-api', 'clarion-worker-messaging', 'clarion-worker-push'],
    );
    const hpa = one(noKeda, 'HorizontalPodAutoscaler', 'clarion-worker-messaging');
    assert.equal(hpa.spec.minReplicas, 1, 'an HPA cannot scale to zero');
    assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');

    const forcedHpa = mustRender([...FULL, ...CRDS, '--set', 'workers.autoscalingMode=hpa']);
    assert.deepEqual(find(forcedHpa, 'ScaledObject'), []);
    const forcedKeda = mustRender([...FULL, '--set', 'workers.autoscalingMode=keda']);
    assert.equal(find(forcedKeda, 'ScaledObject').length, 2);
  });

  test('the KEDA queries are valid PromQL and the default pool covers every clarion queue', () => {
    const allPool = mustRender([
      '--api-versions',
      'keda.sh/v1alpha1',
      '--set',
      'workers.pools[0].name=all',
      '--set',
      'workers.pools[0].autoscaling.enabled=true',
    ]);
    const queries = [...find(full, 'ScaledObject'), ...find(allPool, 'ScaledObject')].map(
      (o) => o.spec.triggers[0].metadata.query as string,
    );
    assert.equal(queries.length, 3);
    assert.match(queries[2] ?? '', /queue=~"clarion\\\\\.\.\+"/);
    const dir = mkdtempSync(join(tmpdir(), 'clarion-keda-'));
    try {
      const file = join(dir, 'rules.yaml');
      writeFileSync(
        file,
        JSON.stringify({
          groups: [{ name: 'keda', rules: queries.map((expr, i) => ({ record: `keda:query${i}`, expr })) }],
        }),
      );
      run(prometheusTool('promtool'), ['check', 'rules', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('extra plugin packages: an init container installs them into the emptyDir on CLARION_PLUGIN_PATH', () => {
    const extra = mustRender([
      ...FULL,
      '--set',
      'extraPlugins.packages[0]=@acme/clarion-plugin-pager@1.2.3',
      '--set',
      'extraPlugins.registry=https://npm.example.com/',
    ]);
    const spec = podSpec(one(extra, 'Deployment', 'clarion-worker-custom'));
    const [init] = spec.initContainers;
    assert.equal(init.command[0], 'npm');
    assert.ok(init.command.includes('@acme/clarion-plugin-pager@1.2.3'));
    assert.ok(
      init.command.includes('--legacy-peer-deps'),
      'peer deps (SDK, prom-client) come from the image',
    );
    assert.ok(init.volumeMounts.some((m: any) => m.mountPath === '/app/plugins-extra'));
    assert.ok(
      spec.containers[0].volumeMounts.some((m: any) => m.mountPath === '/app/plugins-extra' && m.readOnly),
    );
    assert.equal(podSpec(one(defaults, 'Deployment', 'clarion-api')).initContainers, undefined);
  });

  test('ingress, API HPA, NetworkPolicy', () => {
    const ingress = one(full, 'Ingress', 'clarion');
    assert.equal(ingress.spec.ingressClassName, 'nginx');
    assert.deepEqual(ingress.spec.rules[0].http.paths[0].backend.service, {
      name: 'clarion-api',
      port: { name: 'http' },
    });
    const hpa = one(full, 'HorizontalPodAutoscaler', 'clarion-api');
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 12]);
    assert.equal(one(full, 'Deployment', 'clarion-api').spec.replicas, undefined);
    const monitoring = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ];
    const apiNp = one(full, 'NetworkPolicy', 'clarion-api');
    assert.deepEqual(apiNp.spec.ingress[0].from, [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ]);
    assert.deepEqual(apiNp.spec.ingress[1], {
      ports: [{ port: 'metrics', protocol: 'TCP' }],
      from: monitoring,
    });
    const workerNp = one(full, 'NetworkPolicy', 'clarion-worker');
    assert.deepEqual(workerNp.spec.ingress[0].from, monitoring);
    assert.deepEqual(workerNp.spec.ingress[1].from, monitoring);
    // The default Ingress exposes the API and tracked links, not /docs, /admin or /metrics.
    const paths = (objects: K8sObject[]) =>
      one(objects, 'Ingress', 'clarion').spec.rules[0].http.paths.map((p: any) => p.path);
    assert.deepEqual(paths(mustRender(['--set', 'api.ingress.enabled=true'])), ['/v1', '/t']);
    assert.deepEqual(find(defaults, 'NetworkPolicy'), []);
  });

  test('ServiceMonitor scrapes the API and worker Services with the job names the alerts use', () => {
    const sm = one(full, 'ServiceMonitor', 'clarion');
    assert.equal(sm.metadata.labels?.release, 'kube-prometheus-stack');
    const services = find(full, 'Service').filter((s) =>
      matches(sm.spec.selector.matchLabels, s.metadata.labels),
    );
    assert.deepEqual(services.map((s) => [s.metadata.name, s.metadata.labels?.[sm.spec.jobLabel]]).sort(), [
      ['clarion-api', 'clarion-api'],
      ['clarion-worker', 'clarion-worker'],
    ]);
    assert.deepEqual(sm.spec.endpoints, [
      { port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' },
    ]);
    // /metrics on its own port: in the ConfigMap, on every container and both Services.
    assert.equal(one(full, 'ConfigMap', 'clarion').data?.CLARION_METRICS_PORT, '9464');
    for (const d of find(full, 'Deployment'))
      assert.ok(
        podSpec(d).containers[0].ports.some((p: any) => p.name === 'metrics' && p.containerPort === 9464),
        d.metadata.name,
      );
    for (const svc of services)
      assert.ok(
        svc.spec.ports.some((p: any) => p.name === 'metrics'),
        svc.metadata.name,
      );
    const alerts = readFileSync(join(deployDir, 'prometheus', 'alerts.yaml'), 'utf8');
    assert.match(alerts, /job=~"clarion-api\|clarion-worker"/);
  });

  test('PrometheusRule carries exactly deploy/prometheus/alerts.yaml, and the chart copy is identical', () => {
    const source = readFileSync(join(deployDir, 'prometheus', 'alerts.yaml'), 'utf8');
    assert.equal(
      readFileSync(join(chartDir, 'files', 'alerts.yaml'), 'utf8'),
      source,
      'deploy/helm/clarion/files/alerts.yaml differs: cp deploy/prometheus/alerts.yaml deploy/helm/clarion/files/',
    );
    const rule = one(full, 'PrometheusRule', 'clarion');
    const expected = parse(source) as { groups: { rules: { alert: string; expr: string }[] }[] };
    for (const r of expected.groups.flatMap((g) => g.rules)) {
      // absent() keeps no labels: the chart's copy looks for this release's API only.
      if (r.alert === 'ClarionApiAbsent') r.expr = 'absent(up{job="clarion-api", namespace="notify"} == 1)';
    }
    assert.deepEqual(rule.spec, expected);
  });

  test('ClarionApiAbsent is left out without an API; ServiceMonitor and PrometheusRule need their CRDs', () => {
    const alertsOf = (objects: K8sObject[]) =>
      one(objects, 'PrometheusRule', 'clarion').spec.groups.flatMap((g: any) =>
        g.rules.map((r: any) => r.alert),
      );
    const noApi = mustRender([...FULL, ...CRDS, '--set', 'api.enabled=false']);
    assert.ok(alertsOf(noApi).includes('ClarionProcessDown'));
    assert.ok(!alertsOf(noApi).includes('ClarionApiAbsent'), 'no API, so its absence is no alert');
    assert.ok(alertsOf(full).includes('ClarionApiAbsent'));
    const noCrds = mustRender(FULL);
    assert.equal(find(noCrds, 'PrometheusRule').length, 0);
    assert.equal(find(noCrds, 'ServiceMonitor').length, 0);
  });

  test('Grafana dashboard ConfigMap: the same JSON, sidecar label grafana_dashboard "1" by default and configurable', () => {
    const source = readFileSync(join(deployDir, 'grafana', 'clarion.json'), 'utf8');
    assert.equal(
      readFileSync(join(chartDir, 'files', 'clarion.json'), 'utf8'),
      source,
      'deploy/helm/clarion/files/clarion.json differs: cp deploy/grafana/clarion.json deploy/helm/clarion/files/',
    );
    const cm = one(full, 'ConfigMap', 'clarion-dashboard');
    assert.equal(cm.metadata.labels?.grafana_dashboard, '1');
    assert.equal(cm.metadata.annotations?.grafana_folder, 'Clarion');
    assert.deepEqual(JSON.parse(cm.data?.['clarion.json'] ?? ''), JSON.parse(source));
    const custom = mustRender([
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--set',
      'metrics.grafanaDashboard.sidecarLabel=dashboards',
      '--set',
      'metrics.grafanaDashboard.sidecarLabelValue=clarion',
      '--set',
      'metrics.grafanaDashboard.namespace=grafana',
    ]);
    const customCm = one(custom, 'ConfigMap', 'clarion-dashboard');
    assert.equal(customCm.metadata.labels?.dashboards, 'clarion');
    assert.equal(customCm.metadata.labels?.grafana_dashboard, undefined);
    assert.equal(customCm.metadata.namespace, 'grafana');
  });

  test('pods roll when configuration changes (checksum annotation)', () => {
    const before = one(defaults, 'Deployment', 'clarion-api').spec.template.metadata.annotations[
      'checksum/config'
    ];
    const after = one(mustRender(['--set', 'config.logLevel=debug']), 'Deployment', 'clarion-api').spec
      .template.metadata.annotations['checksum/config'];
    assert.ok(before && after && before !== after);
  });

  test('image by tag (appVersion by default) or digest', () => {
    assert.equal(
      podSpec(one(defaults, 'Deployment', 'clarion-api')).containers[0].image,
      'ghcr.io/clarion/clarion:0.1.0',
    );
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(
      podSpec(one(mustRender(['--set', `image.digest=${digest}`]), 'Deployment', 'clarion-api')).containers[0]
        .image,
      `ghcr.io/clarion/clarion@${digest}`,
    );
  });

  test('release names: <release>-clarion unless the release name contains clarion', () => {
    const objects = mustRender([], 'notify', 'prod');
    assert.ok(find(objects, 'Deployment', 'notify-clarion-api').length === 1);
    assert.ok(find(objects, 'Deployment', 'notify-clarion-worker-default').length === 1);
  });
});

describe('helm chart: values are checked', () => {
  const rejects = (args: string[], pattern: RegExp) => {
    const result = render(args);
    assert.equal(result.ok, false, `rendered although ${args.join(' ')}`);
    assert.match(result.stderr, pattern);
  };

  test('typos inside Kubernetes objects in the values are refused too (a local copy of their schema)', () => {
    rejects(['--set', 'api.resources.limts.memory=1Gi'], /Additional property limts is not allowed/);
    rejects(['--set', 'securityContext.runAsUsr=1000'], /Additional property runAsUsr is not allowed/);
    rejects(['--set', 'podSecurityContext.fsGrup=1000'], /Additional property fsGrup is not allowed/);
    rejects(
      [
        '--set',
        'affinity.nodeAfinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=a',
      ],
      /Additional property nodeAfinity is not allowed/,
    );
    rejects(
      ['--set', 'api.ingress.enabled=true', '--set', 'api.ingress.tls[0].secretNam=tls'],
      /Additional property secretNam is not allowed/,
    );
    rejects(
      ['--set', 'extraEnv[0].name=A', '--set', 'extraEnv[0].valu=b'],
      /Additional property valu is not allowed/,
    );
    rejects(
      ['--set', 'extraVolumes[0].name=x', '--set', 'extraVolumes[0].secrt.secretName=s'],
      /Additional property secrt is not allowed/,
    );
    rejects(
      ['--set', 'workers.pools[0].name=a', '--set', 'workers.pools[0].resources.request.cpu=1'],
      /Additional property request is not allowed/,
    );
    // What the objects allow still renders.
    mustRender([
      '--set-json',
      'affinity={"podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"podAffinityTerm":{"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"app":"x"}}}}]}}',
      '--set-json',
      'extraEnv=[{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]',
      '--set-json',
      'extraVolumes=[{"name":"ca","configMap":{"name":"ca","items":[{"key":"ca.pem","path":"ca.pem"}]}},{"name":"c","csi":{"driver":"x"}}]',
      '--set-json',
      'extraVolumeMounts=[{"name":"ca","mountPath":"/etc/ca","readOnly":true}]',
      '--set-json',
      'tolerations=[{"key":"k","operator":"Exists","effect":"NoSchedule"}]',
    ]);
  });

  test('the schema rejects typos (unknown keys) at every level', () => {
    rejects(['--set', 'replicaCount=3'], /Additional property replicaCount is not allowed/);
    rejects(['--set', 'api.replicaz=3'], /api: Additional property replicaz is not allowed/);
    rejects(['--set', 'workers.pools[0].plugin=apns'], /Additional property plugin is not allowed/);
    rejects(['--set', 'metrics.serviceMonitor.enable=true'], /Additional property enable is not allowed/);
  });

  test('the schema rejects wrong types and values', () => {
    rejects(
      ['--set-string', 'api.replicas=three'],
      /api\.replicas: Invalid type\. Expected: integer, given: string/,
    );
    rejects(['--set', 'config.logLevel=loud'], /logLevel/);
    rejects(['--set', 'workers.autoscalingMode=sometimes'], /autoscalingMode/);
    rejects(['--set', 'workers.pools[0].name=Bad_Name'], /name/);
    rejects(['--set', 'config.queuePrefix=clarion'], /queuePrefix/);
    rejects(['--set', 'workers.keda.backlogStates={waiting,stuck}'], /backlogStates/);
  });

  test('the templates refuse what the schema cannot express', () => {
    rejects(
      ['--set', 'workers.terminationGracePeriodSeconds=20'],
      /workers\.terminationGracePeriodSeconds \(20\) must be longer than config\.shutdownTimeoutMs \(30s\)/,
    );
    rejects(['--set', 'api.terminationGracePeriodSeconds=30'], /api\.terminationGracePeriodSeconds/);
    // 30 s of shutdown + 5 s preStop fit in 45 s, but not with a 15 s drain window on top.
    rejects(
      ['--set', 'config.shutdownDrainMs=15000'],
      /api\.terminationGracePeriodSeconds \(45\) must be longer than config\.shutdownTimeoutMs \(30s\) plus config\.shutdownDrainMs \(15s\)/,
    );
    assert.equal(one(defaults, 'ConfigMap', 'clarion').data?.CLARION_SHUTDOWN_DRAIN_MS, '5000');
    rejects(
      ['--set', 'database.existingSecret='],
      /database: set either an inline value \(database\.url\) or database\.existingSecret/,
    );
    rejects(
      ['--set', 'workers.pools[0].name=a', '--set', 'workers.pools[1].name=a'],
      /pool name "a" is used twice/,
    );
  });
});
