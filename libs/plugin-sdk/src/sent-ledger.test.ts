import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_PROCESSOR } from './plugin';
import { sentLedgerTtlSeconds } from './sent-ledger';

const bullmqDefaults = { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1 };

describe('sentLedgerTtlSeconds: how long a sent mark must outlive its job', () => {
  test('default processor settings: twice (7 backoffs of at most 10 min + 2 stalls of 1 min), not 7 days', () => {
    const ttl = sentLedgerTtlSeconds({
      attempts: DEFAULT_PROCESSOR.attempts,
      maxBackoffMs: DEFAULT_PROCESSOR.backoff.maxMs,
      ...bullmqDefaults,
    });
    assert.equal(ttl, 2 * (7 * 600 + 2 * 60));
    assert.ok(ttl < 3 * 3600, `${ttl} s`);
  });

  test('never under an hour, even for a job with one attempt and short locks', () => {
    assert.equal(
      sentLedgerTtlSeconds({
        attempts: 1,
        maxBackoffMs: 100,
        lockDurationMs: 1000,
        stalledIntervalMs: 1000,
        maxStalledCount: 0,
      }),
      3600,
    );
  });

  test('grows with the attempts and the longest backoff a plugin allows', () => {
    const ttl = sentLedgerTtlSeconds({ attempts: 25, maxBackoffMs: 3600_000, ...bullmqDefaults });
    assert.equal(ttl, 2 * (24 * 3600 + 2 * 60));
  });
});
