import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clearPrefix, testRedis, waitFor } from '@clarion/testkit';
import { runMigrations } from '../database/data-source';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';
import { receiptsById } from '../testing/receipts';

const USERS = 10;

/** Every (notification, user) pair's webhook deliveries and its step row, straight from PostgreSQL. */
async function stepState(url: string, ids: string[]) {
  const steps = await sql<{ notification_id: string; user_id: string; status: string }>(
    url,
    'SELECT notification_id, user_id, status FROM notification_steps WHERE notification_id = ANY($1::uuid[])',
    [ids],
  );
  const deliveries = await sql<{ id: string; notification_id: string; user_id: string; status: string }>(
    url,
    `SELECT id, notification_id, user_id, status FROM deliveries WHERE notification_id = ANY($1::uuid[]) AND channel = 'webhook'`,
    [ids],
  );
  return { steps, deliveries };
}

/**
 * The wait lives in PostgreSQL: a server killed during it, with every Redis key of this server
 * gone too, still runs the step once, when due; two processes polling the same due steps plan
 * each once (SKIP LOCKED, settled under the row lock), and the receiver gets each once.
 */
describe('escalation steps across a restart, lost Redis data and two processes', () => {
  let h: Harness;
  let app: TestApp;
  let env: NodeJS.ProcessEnv;
  const processes = new Processes();
  const redis = testRedis();

  before(async () => {
    h = await startHarness({ role: 'none', label: 'escalation-durable' });
    await runMigrations(h.db.url);
    env = h.childEnv({
      CLARION_MIGRATE_ON_START: 'false',
      CLARION_SCHEDULE_CHECK_INTERVAL_MS: '100',
      CLARION_SWEEP_INTERVAL_MS: '500',
      CLARION_SWEEP_AFTER_MS: '1000',
    });
    h.useApi((await processes.startClarion('server-1', 'all', env, { timeoutMs: 60_000 })).url);
    app = await h.createApp();
    for (let i = 1; i <= USERS; i++) {
      const put = await app.call(`/v1/users/u${i}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/u${i}` },
      });
      assert.equal(put.status, 201);
    }
  });
  after(async () => {
    await processes.killAll();
    redis.disconnect();
    await h?.close();
  });

  const send = async (userIds: string[], after: string) => {
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userIds },
        content: { inbox: { title: 'Your code', body: '123456' }, webhook: { json: { code: '123456' } } },
        steps: [{ channel: 'inbox' }, { channel: 'webhook', after, unless: ['opened'] }],
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
    return (await json<{ id: string }>(res)).id;
  };

  /** Waits until every step is planned and its delivery sent; then checks each pair got one delivery, received once. */
  const assertEachOnce = async (ids: string[], pairs: number) => {
    const state = await waitFor(
      'every step planned and sent',
      async () => {
        const s = await stepState(h.db.url, ids);
        const done =
          s.steps.length === pairs &&
          s.steps.every((r) => r.status === 'planned') &&
          s.deliveries.filter((d) => d.status === 'sent').length >= pairs;
        return done ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const perPair = Map.groupBy(state.deliveries, (d) => `${d.notification_id}/${d.user_id}`);
    assert.equal(perPair.size, pairs);
    for (const [pair, list] of perPair) assert.equal(list.length, 1, `${pair}: one webhook delivery`);
    const receipts = new Map(ids.flatMap((id) => [...receiptsById(h.sandbox, { notificationId: id })]));
    for (const d of state.deliveries)
      assert.equal(receipts.get(d.id)?.accepted, 1, `delivery ${d.id} received once`);
    assert.equal(receipts.size, pairs);
  };

  test('the server is killed during the wait and its Redis data is lost: the step still runs, once', async () => {
    const id = await send(['u1'], '8s');
    await waitFor('the first step sent', async () => {
      const [d] = await sql<{ status: string }>(
        h.db.url,
        `SELECT status FROM deliveries WHERE notification_id = $1 AND channel = 'inbox'`,
        [id],
      );
      return d?.status === 'sent';
    });
    const [first] = processes.list();
    first!.kill('SIGKILL');
    await first!.exited;
    const { steps } = await stepState(h.db.url, [id]);
    assert.deepEqual(
      steps.map((s) => s.status),
      ['waiting'],
      'killed during the wait',
    );
    await clearPrefix(redis, h.prefix);
    assert.equal((await redis.keys(`${h.prefix}*`)).length, 0);

    h.useApi((await processes.startClarion('server-2', 'all', env, { timeoutMs: 60_000 })).url);
    await assertEachOnce([id], 1);
  });

  test('two processes poll the same due steps: each is planned once', async () => {
    h.useApi((await processes.startClarion('server-3', 'all', env, { timeoutMs: 60_000 })).url);
    assert.equal(processes.list().length, 2);
    const users = Array.from({ length: USERS }, (_, i) => `u${i + 1}`);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await send(users, '2s'));
    await assertEachOnce(ids, ids.length * USERS);
  });
});
