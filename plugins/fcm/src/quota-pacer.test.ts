import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PacerClock, QuotaPacer } from './quota-pacer';

/** A clock the test moves by hand. */
function manualClock(): PacerClock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, sleep: async () => undefined, advance: (ms) => (now += ms) };
}

test('a second of quota goes at once, then one message per 1/rate, in reservation order', () => {
  const clock = manualClock();
  const pacer = new QuotaPacer(600, clock); // 10 a second
  const waits = Array.from({ length: 13 }, () => pacer.reserve());
  assert.deepEqual(waits.slice(0, 10), Array(10).fill(0));
  assert.deepEqual(
    waits.slice(10).map((w) => Math.round(w)),
    [100, 200, 300],
  );
});

test('the bucket refills at the quota rate and never holds more than a second of it', () => {
  const clock = manualClock();
  const pacer = new QuotaPacer(600, clock);
  for (let i = 0; i < 10; i++) pacer.reserve();
  clock.advance(500);
  const afterHalfSecond = Array.from({ length: 6 }, () => Math.round(pacer.reserve()));
  assert.deepEqual(afterHalfSecond, [0, 0, 0, 0, 0, 100]);
  clock.advance(60_000);
  const afterMinute = Array.from({ length: 11 }, () => Math.round(pacer.reserve()));
  assert.deepEqual(afterMinute, [...Array(10).fill(0), 100]);
});

test('600,000 a minute paces 10,000 messages a second', () => {
  const clock = manualClock();
  const pacer = new QuotaPacer(600_000, clock);
  let last = 0;
  for (let i = 0; i < 30_000; i++) last = pacer.reserve();
  // 10,000 go in the first burst; the 20,000 after them take two seconds.
  assert.equal(Math.round(last), 2000);
});
