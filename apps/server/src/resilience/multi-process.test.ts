import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { runMigrations } from '../database/data-source';
import { sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes, type Spawned } from '../testing/processes';

type Started = Spawned & { url: string };

import { receiptsById } from '../testing/receipts';

const USERS = 20;
const NOTIFICATIONS = 2000;
/** Every 10th notification carries an eventId that is also sent, at the same moment, to the other API. */
const REPEAT_EVERY = 10;

const CHILD_ENV = {
  CLARION_MIGRATE_ON_START: 'false',
  CLARION_SWEEP_INTERVAL_MS: '1000',
  CLARION_SWEEP_AFTER_MS: '2000',
  CLARION_JOB_LOCK_MS: '5000',
  // The sandbox shares this test's event loop, which is busy driving 2,000 requests: a receiver
  // slower than the timeout is a timeout-and-retry (at-least-once, see NOTES), not what this test is about.
  CLARION_WEBHOOK_TIMEOUT_MS: '30000',
};

/** The sum of a counter's samples whose labels contain all of `labels`, from a /metrics text. */
function counter(text: string, name: string, labels: string[]): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('two API and two worker processes on one database and Redis', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  const apis: Started[] = [];
  const workers: Started[] = [];
  before(async () => {
    h = await startHarness({ role: 'none', label: 'multiproc' });
    await runMigrations(h.db.url); // once, before the processes (as the migration Job does)
    const env = h.childEnv(CHILD_ENV);
    // One after another: four Node processes booting at once on two shared cores is slow.
    for (const name of ['api-1', 'api-2'])
      apis.push(await processes.startClarion(name, 'api', env, { timeoutMs: 60_000 }));
    for (const name of ['worker-1', 'worker-2'])
      workers.push(await processes.startClarion(name, 'worker', env, { timeoutMs: 60_000 }));
    h.useApi(apis[0]!.url);
    app = await h.createApp();
    for (let i = 1; i <= USERS; i++) {
      assert.equal(
        (
          await app.call(`/v1/users/m${i}`, {
            method: 'PUT',
            body: { webhookUrl: `${h.sandbox.url}/webhook/m${i}` },
          })
        ).status,
        201,
      );
    }
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  const post = (api: { url: string }, body: unknown) =>
    fetch(`${api.url}/v1/notifications`, {
      method: 'POST',
      headers: { authorization: basic(app.appKey, app.appSecret), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('every delivery is sent exactly once; a repeated eventId across the APIs makes one notification', async (t) => {
    h.sandbox.behaviors.add({ provider: 'webhook', to: '*', delayMs: 5 });
    const started = Date.now();
    const ids = new Set<string>();
    for (let start = 0; start < NOTIFICATIONS; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, j) => {
          const n = start + j;
          const body = {
            to: { userId: `m${(n % USERS) + 1}` },
            content: { webhook: { json: { n } } },
            ...(n % REPEAT_EVERY === 0 ? { eventId: `evt-${n}` } : {}),
          };
          if (n % REPEAT_EVERY === 0) {
            // The same event to both APIs at once: one wins, the other answers with the winner's id.
            const answers = await Promise.all([post(apis[0]!, body), post(apis[1]!, body)]);
            const statuses = answers.map((a) => a.status).sort();
            if (statuses[0] !== 200 || statuses[1] !== 202) {
              assert.fail(
                `event evt-${n}: ${statuses} ${await Promise.all(answers.map((a) => a.text()))}\n${apis
                  .map((a) =>
                    a
                      .output()
                      .split('\n')
                      .filter((l) => l.includes('"level":50'))
                      .slice(-3)
                      .join('\n'),
                  )
                  .join('\n')}`,
              );
            }
            const [a, b] = await Promise.all(answers.map((a) => json<{ id: string }>(a)));
            assert.equal(a!.id, b!.id, `event evt-${n}: one notification`);
            ids.add(a!.id);
          } else {
            const api = apis[n % 2]!;
            const res = await post(api, body);
            if (res.status !== 202)
              assert.fail(
                `${res.status} ${await res.text()} from ${api.name}:\n${api
                  .output()
                  .split('\n')
                  .filter((l) => l.includes('"level":50'))
                  .slice(-3)
                  .join('\n')}`,
              );
            ids.add((await json<{ id: string }>(res)).id);
          }
        }),
      );
    }
    const acceptedMs = Date.now() - started;
    assert.equal(ids.size, NOTIFICATIONS);

    await waitFor(
      'all deliveries sent',
      async () =>
        Number(
          (
            await sql<{ n: string }>(h.db.url, `SELECT count(*) AS n FROM deliveries WHERE status = 'sent'`)
          )[0]!.n,
        ) === NOTIFICATIONS,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const doneMs = Date.now() - started;
    const list = [...ids];
    for (let i = 0; i < list.length; i += 50) {
      const views = await Promise.all(
        list
          .slice(i, i + 50)
          .map(async (id) =>
            json<{ summary: Record<string, number> }>(await app.call(`/v1/notifications/${id}`)),
          ),
      );
      for (const [j, v] of views.entries())
        assert.deepEqual(v.summary, { sent: 1 }, `notification ${list[i + j]}`);
    }
    const receipts = receiptsById(h.sandbox);
    assert.equal(receipts.size, NOTIFICATIONS, 'every delivery reached the receiver');
    const doubles = [...receipts.values()].filter((r) => r.accepted !== 1);
    const history =
      doubles.length === 0
        ? []
        : await sql(
            h.db.url,
            'SELECT delivery_id, status, attempt, detail FROM delivery_events WHERE delivery_id = ANY($1::uuid[]) ORDER BY id',
            [doubles.slice(0, 3).map((d) => d.deliveryId)],
          );
    assert.deepEqual(
      doubles,
      [],
      `each delivery accepted exactly once; history of the first: ${JSON.stringify(history)}`,
    );
    assert.deepEqual(new Set([...receipts.values()].map((r) => r.notificationId)), ids);

    // Both APIs accepted and both workers sent: the work really was shared.
    const metrics = await Promise.all(
      [...apis, ...workers].map(async (p) => (await fetch(`${p.url}/metrics`)).text()),
    );
    const accepted = metrics.slice(0, 2).map((m) => counter(m, 'clarion_notifications_accepted_total', []));
    const sent = metrics
      .slice(2)
      .map((m) => counter(m, 'clarion_plugin_send_attempts_total', ['plugin="webhook"', 'result="sent"']));
    assert.ok(
      accepted.every((n) => n > 0),
      `accepted per API: ${accepted}`,
    );
    assert.ok(
      sent.every((n) => n > 0),
      `sent per worker: ${sent}`,
    );
    assert.equal(sent[0]! + sent[1]!, NOTIFICATIONS, 'no send counted twice across workers');
    t.diagnostic(
      `${NOTIFICATIONS} notifications through 2 APIs in ${acceptedMs} ms, all sent after ${doneMs} ms; per worker: ${sent.join('/')}`,
    );
  });

  test('the same eventIds racing through both APIs in opposite orders: never a 5xx, one notification each', async () => {
    // Each API commits concurrent requests together; two such batches claiming the same eventIds
    // in opposite orders must not deadlock in PostgreSQL (a deadlock fails a whole batch with 500).
    for (let round = 0; round < 5; round++) {
      const events = Array.from({ length: 60 }, (_, i) => `race-${round}-${i}`);
      const body = (eventId: string) => ({
        to: { userId: 'm1' },
        eventId,
        content: { webhook: { json: { eventId } } },
      });
      const [one, two] = await Promise.all([
        Promise.all(events.map((e) => post(apis[0]!, body(e)))),
        Promise.all([...events].reverse().map((e) => post(apis[1]!, body(e)))),
      ]);
      const statuses = [...one!, ...two!].map((r) => r.status);
      assert.deepEqual(
        statuses.filter((s) => s !== 200 && s !== 202),
        [],
        `round ${round}: only 200/202`,
      );
      const first = await Promise.all(one!.map((r) => json<{ id: string }>(r)));
      const second = (await Promise.all(two!.map((r) => json<{ id: string }>(r)))).reverse();
      for (const [i, a] of first.entries())
        assert.equal(a.id, second[i]!.id, `${events[i]}: one notification`);
    }
  });
});
