import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { clearPrefix, testPrefix, testRedis } from '@clarion/testkit';
import { CancelMarks, SendGate } from './send-gate';
import { SentLedger } from './sent-ledger';

describe('SendGate and CancelMarks (real Redis)', () => {
  const redis = testRedis();
  const prefix = testPrefix('gate');
  const gate = new SendGate(redis, prefix);
  const marks = new CancelMarks(redis, prefix);
  const ledger = new SentLedger(redis, prefix, 3600);
  after(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  test('a fresh delivery may be sent, and is then in flight for the cancel side', async () => {
    const [d, n] = [randomUUID(), randomUUID()];
    assert.deepEqual(await gate.claim(d, n, 'twilio'), { kind: 'send' });
    assert.deepEqual([...(await marks.inFlight([d, randomUUID()]))], [d]);
  });

  test('after the cancel mark no delivery of the notification starts, and none is marked in flight', async () => {
    const [d, n] = [randomUUID(), randomUUID()];
    await marks.mark(n);
    assert.equal(await marks.isMarked(n), true);
    assert.deepEqual(await gate.claim(d, n, 'twilio'), { kind: 'canceled' });
    assert.equal((await marks.inFlight([d])).size, 0);
    assert.deepEqual(
      await gate.claim(randomUUID(), randomUUID(), 'twilio'),
      { kind: 'send' },
      'other notifications are unaffected',
    );
  });

  test('the mark lasts its TTL past the last time a job of the notification is due, not from now', async () => {
    const [now, later] = [randomUUID(), randomUUID()];
    await marks.mark(now);
    await marks.mark(later, new Date(Date.now() + 30 * 86_400_000)); // sendAt in 30 days
    const week = 7 * 86_400;
    const ttlNow = await redis.ttl(`${prefix}:canceled:${now}`);
    const ttlLater = await redis.ttl(`${prefix}:canceled:${later}`);
    assert.ok(ttlNow > week - 60 && ttlNow <= week, `${ttlNow}`);
    assert.ok(ttlLater > week + 30 * 86_400 - 60 && ttlLater <= week + 30 * 86_400, `${ttlLater}`);
  });

  test('a delivery the provider accepted stays sent, even if its notification is canceled afterwards', async () => {
    const [d, n] = [randomUUID(), randomUUID()];
    await ledger.record(d, 'pmid-1');
    await marks.mark(n);
    assert.deepEqual(await gate.claim(d, n, 'twilio'), { kind: 'sent', providerMessageId: 'pmid-1' });
  });

  test('a plugin that handed the delivery to a fallback provider never sends it again; the next provider may', async () => {
    const [d, n] = [randomUUID(), randomUUID()];
    await ledger.release(d, 'twilio', 'provider_failed');
    assert.deepEqual(await gate.claim(d, n, 'twilio'), { kind: 'released', cause: 'provider_failed' });
    assert.deepEqual(await gate.claim(d, n, 'vonage'), { kind: 'send' });
    await ledger.record(d, 'vonage-1');
    assert.deepEqual(
      await gate.claim(d, n, 'twilio'),
      { kind: 'sent', providerMessageId: 'vonage-1' },
      'sent wins over released',
    );
  });

  test('many concurrent claims against one cancel: each delivery is either in flight or canceled, never both or neither', async () => {
    const n = randomUUID();
    const ids = Array.from({ length: 200 }, () => randomUUID());
    const claims = ids.map((d) => gate.claim(d, n, 'twilio'));
    await marks.mark(n);
    const decisions = await Promise.all(claims);
    const inFlight = await marks.inFlight(ids);
    for (const [i, d] of ids.entries())
      assert.equal(decisions[i]?.kind === 'send', inFlight.has(d), `delivery ${i}`);
  });

  test('claims and sent marks made in one turn go to Redis as one script each, every delivery answered by its own state', async () => {
    const counted = redis.duplicate({ enableAutoPipelining: true });
    const scripts: string[] = [];
    const send = counted.sendCommand.bind(counted);
    counted.sendCommand = ((command: { name: string }) => {
      if (command.name === 'evalsha' || command.name === 'eval') scripts.push(command.name);
      return send(command as Parameters<typeof send>[0]);
    }) as typeof counted.sendCommand;
    try {
      const batchGate = new SendGate(counted, prefix);
      const batchLedger = new SentLedger(counted, prefix, 3600);
      const [n, canceled] = [randomUUID(), randomUUID()];
      const ids = Array.from({ length: 50 }, () => randomUUID());
      await ledger.record(ids[0]!, 'pmid-0');
      await ledger.release(ids[1]!, 'twilio', 'circuit_open');
      await marks.mark(canceled);

      const decisions = await Promise.all(
        ids.map((d, i) => batchGate.claim(d, i === 2 ? canceled : n, 'twilio')),
      );
      assert.equal(scripts.length, 1, 'fifty claims, one script');
      assert.deepEqual(decisions[0], { kind: 'sent', providerMessageId: 'pmid-0' });
      assert.deepEqual(decisions[1], { kind: 'released', cause: 'circuit_open' });
      assert.deepEqual(decisions[2], { kind: 'canceled' });
      assert.deepEqual(new Set(decisions.slice(3).map((d) => d.kind)), new Set(['send']));
      assert.deepEqual(
        [...(await marks.inFlight(ids))].sort(),
        ids.slice(3).sort(),
        'only those let through are in flight',
      );

      await Promise.all(
        ids.slice(3).map((d, i) => batchLedger.record(d, i % 2 === 0 ? `pmid-${i}` : undefined)),
      );
      assert.equal(scripts.length, 2, 'forty-seven marks, one script');
      const again = await Promise.all(ids.slice(3).map((d) => batchGate.claim(d, n, 'twilio')));
      assert.deepEqual(
        again,
        ids.slice(3).map((_, i) => ({ kind: 'sent', providerMessageId: i % 2 === 0 ? `pmid-${i}` : '' })),
      );
      const ttl = await redis.ttl(`${prefix}:sent:${ids[3]}`);
      assert.ok(ttl > 3500 && ttl <= 3600, `mark TTL ${ttl}`);
    } finally {
      counted.disconnect();
    }
  });

  test('a claim fails, not passes, when Redis is away', async () => {
    const away = redis.duplicate({ maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    away.on('error', () => undefined);
    const lost = new SendGate(away, prefix);
    await assert.rejects(lost.claim(randomUUID(), randomUUID(), 'twilio'));
    away.disconnect();
  });
});
