// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests and parsed YAML are untyped JSON
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { deployDir } from './paths';

// No Docker engine runs here: the compose file is read and checked, not started.
const file = join(deployDir, 'compose.yaml');
const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as {
  services: Record<string, any>;
  volumes: Record<string, unknown>;
};
const services = compose.services;

describe('deploy/compose.yaml', () => {
  test('has the stack: postgres, redis, migrate, api, worker, sandbox, prometheus, grafana', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'api',
      'grafana',
      'migrate',
      'postgres',
      'prometheus',
      'redis',
      'sandbox',
      'worker',
    ]);
  });

  test('redis never evicts (BullMQ) and postgres/redis have health checks and volumes', () => {
    const cmd = services.redis.command.join(' ');
    assert.match(cmd, /--maxmemory-policy noeviction/);
    for (const name of ['postgres', 'redis']) {
      assert.ok(services[name].healthcheck?.test, `${name} health check`);
      const [volume] = services[name].volumes[0].split(':');
      assert.ok(volume in compose.volumes, `${name} data volume ${volume} declared`);
    }
  });

  test('one image for every Clarion role, built from deploy/Dockerfile with the repository as context', () => {
    for (const name of ['migrate', 'api', 'worker', 'sandbox']) {
      assert.equal(services[name].image, 'clarion:dev', name);
      assert.equal(resolve(deployDir, services[name].build.context), resolve(deployDir, '..'));
      assert.equal(services[name].build.dockerfile, 'deploy/Dockerfile');
    }
    assert.ok(existsSync(join(deployDir, 'Dockerfile')));
    assert.deepEqual(services.migrate.command, ['migrate']);
    assert.deepEqual(services.api.command, ['start']);
    assert.deepEqual(services.worker.command, ['start']);
    assert.deepEqual(services.sandbox.command, ['sandbox']);
    assert.equal(services.api.environment.CLARION_ROLE, 'api');
    assert.equal(services.worker.environment.CLARION_ROLE, 'worker');
    assert.equal(services.migrate.restart, 'no');
  });

  test('Clarion processes get every required setting, in valid form', () => {
    for (const name of ['migrate', 'api', 'worker']) {
      const env = services[name].environment;
      assert.match(env.DATABASE_URL, /^postgres:\/\/clarion:clarion@postgres:5432\/clarion$/);
      assert.match(env.REDIS_URL, /^redis:\/\/redis:6379$/);
      assert.ok(env.CLARION_ADMIN_TOKEN.length >= 16);
      assert.equal(Buffer.from(env.CLARION_ENCRYPTION_KEY, 'base64').length, 32);
      assert.equal(env.CLARION_MIGRATE_ON_START, 'false', 'the migrate service does it');
    }
  });

  test('start order: depends_on conditions', () => {
    const cond = (svc: string) =>
      Object.fromEntries(
        Object.entries(services[svc].depends_on ?? {}).map(([k, v]: [string, any]) => [k, v.condition]),
      );
    assert.deepEqual(cond('migrate'), { postgres: 'service_healthy' });
    assert.deepEqual(cond('api'), {
      migrate: 'service_completed_successfully',
      redis: 'service_healthy',
      sandbox: 'service_healthy',
    });
    assert.deepEqual(cond('worker'), {
      migrate: 'service_completed_successfully',
      redis: 'service_healthy',
      sandbox: 'service_healthy',
    });
    assert.equal(cond('grafana').prometheus, 'service_healthy');
    for (const [svc, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {}))
        assert.ok(dep in services, `${svc} depends on unknown ${dep}`);
      for (const [dep, v] of Object.entries(s.depends_on ?? {}) as Array<[string, any]>) {
        if (v.condition === 'service_healthy')
          assert.ok(
            services[dep].healthcheck,
            `${svc} waits for ${dep} to be healthy but it has no health check`,
          );
      }
    }
  });

  test('ports: API 3000, sandbox 4010, Prometheus 9090, Grafana 3001; no host port used twice', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p: string) => [name, p]),
    );
    assert.deepEqual(published.sort(), [
      ['api', '3000:3000'],
      ['grafana', '3001:3000'],
      ['prometheus', '9090:9090'],
      ['sandbox', '4010:4010'],
    ]);
    assert.equal(services.sandbox.environment.PORT, '4010');
  });

  test('long-running services have health checks on the right endpoints and graceful stop periods', () => {
    assert.match(services.api.healthcheck.test.join(' '), /\/readyz/);
    assert.match(services.worker.healthcheck.test.join(' '), /\/readyz/);
    for (const name of ['api', 'worker', 'sandbox', 'prometheus', 'grafana'])
      assert.ok(services[name].healthcheck, `${name} health check`);
    const seconds = (v: string) => Number(v.replace(/s$/, ''));
    assert.ok(
      seconds(services.worker.stop_grace_period) > 30,
      'worker drains longer than CLARION_SHUTDOWN_TIMEOUT_MS',
    );
  });

  test('Prometheus gets the config and the alert rules, Grafana the data source, dashboard provider and dashboard; all mounted files exist', () => {
    const mounts = (svc: string) =>
      services[svc].volumes.filter((v: string) => v.startsWith('./')).map((v: string) => v.split(':'));
    const prom = Object.fromEntries(mounts('prometheus').map(([src, dst]: string[]) => [dst, src]));
    assert.equal(prom['/etc/prometheus/prometheus.yml'], './prometheus/prometheus.yml');
    assert.equal(prom['/etc/prometheus/rules/alerts.yaml'], './prometheus/alerts.yaml');
    const graf = Object.fromEntries(mounts('grafana').map(([src, dst]: string[]) => [dst, src]));
    assert.equal(graf['/etc/grafana/provisioning/datasources'], './grafana/provisioning/datasources');
    assert.equal(graf['/etc/grafana/provisioning/dashboards'], './grafana/provisioning/dashboards');
    assert.equal(graf['/var/lib/grafana/dashboards/clarion.json'], './grafana/clarion.json');
    for (const svc of ['prometheus', 'grafana']) {
      for (const [src] of mounts(svc))
        assert.ok(existsSync(resolve(deployDir, src)), `${svc} mounts missing ${src}`);
    }
    const provider = parse(
      readFileSync(join(deployDir, 'grafana/provisioning/dashboards/clarion.yaml'), 'utf8'),
    );
    assert.equal(provider.providers[0].options.path, '/var/lib/grafana/dashboards');
    const ds = parse(
      readFileSync(join(deployDir, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8'),
    );
    assert.equal(ds.datasources[0].type, 'prometheus');
    assert.equal(ds.datasources[0].url, 'http://prometheus:9090');
    const scrape = parse(readFileSync(join(deployDir, 'prometheus/prometheus.yml'), 'utf8'));
    const targets = scrape.scrape_configs.flatMap((j: any) =>
      j.static_configs.flatMap((c: any) => c.targets),
    );
    assert.ok(targets.includes('api:3000') && targets.includes('worker:3000'));
  });
});
