import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Cluster } from 'ioredis';
import { EnvError, loadEnv } from '../config/env';
import { createRedis } from './client';
import { redisOptions } from './connection-options';
import { KeyLayout } from './key-layout';

const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLARION_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('Redis connection settings', () => {
  test('one node from REDIS_URL, with its user, password, database and TLS', () => {
    const options = redisOptions(
      loadEnv({ ...valid, REDIS_URL: 'rediss://app:s%40cret@redis.internal:6380/2' }),
    );
    assert.deepEqual(options, {
      host: 'redis.internal',
      port: 6380,
      username: 'app',
      password: 's@cret',
      db: 2,
      tls: {},
    });
  });

  test('through Sentinels: their list and the master name; REDIS_URL gives only the master’s credentials', () => {
    const env = loadEnv({
      ...valid,
      REDIS_URL: 'redis://:master-pass@ignored:1/3',
      REDIS_SENTINELS: 's1.internal:26380, s2.internal ,[::1]:26381',
      REDIS_SENTINEL_MASTER: 'clarion',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pass',
    });
    const options = redisOptions(env, { maxRetriesPerRequest: null });
    assert.deepEqual(options.sentinels, [
      { host: 's1.internal', port: 26380 },
      { host: 's2.internal', port: 26379 },
      { host: '::1', port: 26381 },
    ]);
    assert.equal(options.name, 'clarion');
    assert.equal(options.sentinelPassword, 'sentinel-pass');
    assert.equal(options.password, 'master-pass');
    assert.equal(options.db, 3);
    assert.equal(options.maxRetriesPerRequest, null);
    assert.equal(options.host, undefined, 'the host of REDIS_URL is not used');
    assert.equal(loadEnv({ ...valid, REDIS_SENTINELS: 'a:1' }).REDIS_SENTINEL_MASTER, 'mymaster');
  });

  test('a Sentinel that is not host:port stops the start, naming the variable', () => {
    for (const bad of ['a:port', 'a:99999', ' , ']) {
      try {
        loadEnv({ ...valid, REDIS_SENTINELS: bad });
        assert.fail(`${bad} accepted`);
      } catch (error) {
        assert.ok(error instanceof EnvError);
        assert.ok(
          error.problems.some((p) => p.startsWith('REDIS_SENTINELS:')),
          error.problems.join('; '),
        );
      }
    }
  });

  test('a Redis Cluster from its seed nodes; REDIS_URL gives only user, password and TLS', () => {
    const env = loadEnv({
      ...valid,
      REDIS_URL: 'rediss://app:s%40cret@ignored:1/0',
      REDIS_CLUSTER_NODES: 'c1.internal:7000, c2.internal,[::1]:7002',
    });
    assert.deepEqual(env.REDIS_CLUSTER_NODES, [
      { host: 'c1.internal', port: 7000 },
      { host: 'c2.internal', port: 6379 },
      { host: '::1', port: 7002 },
    ]);
    const client = createRedis(env, { maxRetriesPerRequest: null, lazyConnect: true }) as Cluster;
    try {
      assert.equal(client.isCluster, true);
      const { redisOptions: node } = client.options;
      assert.equal(node?.username, 'app');
      assert.equal(node?.password, 's@cret');
      assert.deepEqual(node?.tls, {});
      // BullMQ reads its blocking rule from the nodes' options of a cluster client.
      assert.equal(node?.maxRetriesPerRequest, null);
      assert.throws(() => redisOptions(env), /Cluster client/);
    } finally {
      client.disconnect();
    }
  });

  test('cluster and Sentinels together, or a seed that is not host:port, stop the start', () => {
    assert.throws(
      () => loadEnv({ ...valid, REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' }),
      (error: unknown) =>
        error instanceof EnvError && error.problems.some((p) => p.startsWith('REDIS_CLUSTER_NODES:')),
    );
    assert.throws(
      () => loadEnv({ ...valid, REDIS_CLUSTER_NODES: 'a:port' }),
      (error: unknown) =>
        error instanceof EnvError && error.problems.some((p) => p.startsWith('REDIS_CLUSTER_NODES:')),
    );
  });

  test('key layout: one shared tag on a node or Sentinel, a tag per queue and per user on a cluster', () => {
    const single = new KeyLayout(loadEnv(valid));
    assert.equal(single.plugin('apns'), '{clarion}');
    assert.equal(single.queue('clarion.fanout'), '{clarion}');
    assert.equal(single.counterPrefix('cap'), '{clarion}:cap');
    assert.equal(single.userKey('app1', 'u1', 'push|*|3|60', 7), 'app1:push|*|3|60:u1:7');

    const cluster = new KeyLayout(loadEnv({ ...valid, REDIS_CLUSTER_NODES: 'c1:7000' }));
    assert.equal(cluster.plugin('apns'), '{clarion/clarion.apns}');
    assert.equal(cluster.queue('clarion.fanout'), '{clarion/clarion.fanout}');
    assert.equal(cluster.counterPrefix('cap'), 'clarion:cap');
    assert.equal(cluster.userKey('app1', 'u1', 'push|*|3|60', 7), '{app1:u1}:push|*|3|60:7');
  });
});
