import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis } from '@clarion/testkit';
import { CHECK_JOBS } from './queue-reconciler';

const redis = testRedis();
const prefix = testPrefix('checkjobs');
after(async () => {
  await clearPrefix(redis, prefix);
  redis.disconnect();
});

/**
 * The reconciler's check: a job held as failed counts as finished without its outcome only once it
 * finished before the cutoff (the grace period ago). One that failed a moment ago (BullMQ failing a
 * job that stalled too often, its outcome still on its way to PostgreSQL) counts as held: running
 * it again would undo the poison job's limit.
 */
test('CHECK_JOBS: a job failed before the cutoff is finished; one failed after it is still held', async () => {
  const now = Date.now();
  const key = (id: string) => `${prefix}:q:${id}`;
  await redis.hset(key('old'), 'name', 'deliver');
  await redis.hset(key('recent'), 'name', 'deliver');
  await redis.zadd(key('failed'), now - 10_000, 'old', now - 100, 'recent');
  const check = (cutoff: number) =>
    redis.eval(
      CHECK_JOBS,
      6,
      key('failed'),
      key('completed'),
      key('old'),
      key('recent'),
      key('old'),
      key('recent'),
      'old',
      'recent',
      '',
      '',
      String(cutoff),
    ) as Promise<[string[], string[]]>;

  assert.deepEqual(await check(now - 5_000), [[], ['old']], 'the grace period ago: only the old failure');
  assert.deepEqual(await check(now), [[], ['old', 'recent']], 'now: both');
  await redis.del(key('old'));
  assert.deepEqual(await check(now - 5_000), [['old'], []], 'a job Redis lost is missing, whenever');
});
