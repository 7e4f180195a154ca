import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnvError, loadEnv } from '../config/env';
import { redisOptions } from './connection-options';

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
});
