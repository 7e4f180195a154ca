import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnvError, loadEnv } from '../config/env';
import { circuitSettings, jobLockSettings, workerProcessor } from './worker-settings';

const base = {
  DATABASE_URL: 'postgres://x@127.0.0.1/x',
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
  CLARION_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
};

describe('worker settings from the environment', () => {
  test('CLARION_PLUGIN_RATE_LIMITS sets a per-plugin queue limiter (sends per second); others keep their defaults', () => {
    const env = loadEnv({ ...base, CLARION_PLUGIN_RATE_LIMITS: 'twilio=30, vonage=0.5' });
    assert.deepEqual(workerProcessor(env, 'twilio'), { limiter: { max: 30, durationMs: 1000 } });
    assert.deepEqual(workerProcessor(env, 'vonage'), { limiter: { max: 1, durationMs: 2000 } });
    assert.deepEqual(workerProcessor(env, 'smtp'), {});
  });

  test('CLARION_RETRY_BACKOFF_BASE_MS replaces every plugin backoff (cap 64× the base unless given)', () => {
    assert.deepEqual(workerProcessor(loadEnv({ ...base, CLARION_RETRY_BACKOFF_BASE_MS: '20' }), 'smtp'), {
      backoff: { baseMs: 20, maxMs: 1280 },
    });
    const env = loadEnv({ ...base, CLARION_RETRY_BACKOFF_BASE_MS: '20', CLARION_RETRY_BACKOFF_MAX_MS: '50' });
    assert.deepEqual(workerProcessor(env, 'smtp'), { backoff: { baseMs: 20, maxMs: 50 } });
  });

  test('a malformed rate list stops the start, naming the variable', () => {
    for (const bad of ['twilio', 'twilio=fast', 'twilio=0', 'Twilio=3']) {
      assert.throws(
        () => loadEnv({ ...base, CLARION_PLUGIN_RATE_LIMITS: bad }),
        (e: unknown) => e instanceof EnvError && /CLARION_PLUGIN_RATE_LIMITS/.test(e.message),
        bad,
      );
    }
  });

  test('fallback and circuit defaults; a threshold of 0 turns the breaker off', () => {
    const env = loadEnv(base);
    assert.equal(env.CLARION_FALLBACK_AFTER_ATTEMPTS, 3);
    assert.deepEqual(circuitSettings(env), { failureThreshold: 5, windowMs: 30_000, cooldownMs: 30_000 });
    assert.equal(circuitSettings(loadEnv({ ...base, CLARION_CIRCUIT_FAILURE_THRESHOLD: '0' })), false);
  });

  test("recovery defaults: a dead worker's jobs within about 13 s, deliveries left pending within 15 s", () => {
    const env = loadEnv(base);
    assert.deepEqual(jobLockSettings(env), {
      lockDurationMs: 10_000,
      stalledIntervalMs: 2500,
      maxStalledCount: 3,
    });
    assert.equal(env.CLARION_SWEEP_INTERVAL_MS + env.CLARION_SWEEP_AFTER_MS, 15_000);
    const slow = loadEnv({ ...base, CLARION_JOB_LOCK_MS: '60000', CLARION_JOB_MAX_STALLS: '1' });
    assert.deepEqual(jobLockSettings(slow), {
      lockDurationMs: 60_000,
      stalledIntervalMs: 15_000,
      maxStalledCount: 1,
    });
  });
});
