import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';

function breaker(settings = { failureThreshold: 3, windowMs: 1000, cooldownMs: 500 }) {
  let now = 0;
  const changes: CircuitState[] = [];
  const b = new CircuitBreaker(
    settings,
    (s) => changes.push(s),
    () => now,
  );
  return { b, changes, tick: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  test('stays closed below the threshold; failures older than the window do not count', () => {
    const { b, tick } = breaker();
    b.failure();
    b.failure();
    tick(1001);
    b.failure();
    assert.equal(b.current(), 'closed');
    assert.deepEqual(b.decide(), { allow: true, probe: false });
  });

  test('opens at the threshold and refuses sends for the cooldown, saying how long is left', () => {
    const { b, changes, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    assert.equal(b.current(), 'open');
    assert.deepEqual(changes, ['open']);
    tick(200);
    assert.deepEqual(b.decide(), { allow: false, retryInMs: 300 });
  });

  test('after the cooldown: half-open, one probe at a time; success closes', () => {
    const { b, changes, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(500);
    assert.equal(b.current(), 'half_open');
    assert.deepEqual(b.decide(), { allow: true, probe: true });
    assert.equal(b.decide().allow, false, 'a second send waits for the probe');
    b.success();
    assert.equal(b.current(), 'closed');
    assert.deepEqual(changes, ['open', 'half_open', 'closed']);
    assert.deepEqual(b.decide(), { allow: true, probe: false });
  });

  test('a failed probe opens it for another cooldown', () => {
    const { b, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(500);
    assert.equal(b.decide().allow, true);
    b.failure();
    assert.equal(b.current(), 'open');
    tick(499);
    assert.equal(b.decide().allow, false);
    tick(1);
    assert.equal(b.current(), 'half_open');
  });

  test('a probe answered with a message-level error (bad address) still proves the provider is up', () => {
    const { b, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(500);
    b.decide();
    b.neutral();
    assert.equal(b.current(), 'closed');
  });

  test('a probe that never reports back (worker died) lets another probe through after a cooldown', () => {
    const { b, tick } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    tick(500);
    assert.equal(b.decide().allow, true);
    tick(100);
    assert.equal(b.decide().allow, false);
    tick(401);
    assert.deepEqual(b.decide(), { allow: true, probe: true });
  });
});
