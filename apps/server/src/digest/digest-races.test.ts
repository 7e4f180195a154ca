import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { runMigrations } from '../database/data-source';
import { sql } from '../testing/db';
import { DIGEST_WEBHOOK_CONTENT, digestMessagesTo, digestsOf } from '../testing/digests';
import { basic, type Harness, startHarness, type TestApp } from '../testing/harness';
import { Processes, type Spawned } from '../testing/processes';

type Started = Spawned & { url: string };

const JOINS = 200;
/** Other users' digests, closing at the same moment, so both workers have several to race for. */
const OTHERS = 20;

const CHILD_ENV = {
  CLARION_MIGRATE_ON_START: 'false',
  CLARION_SCHEDULE_CHECK_INTERVAL_MS: '100',
  CLARION_SWEEP_INTERVAL_MS: '1000',
  CLARION_SWEEP_AFTER_MS: '2000',
};

describe('digests with two API and two worker processes', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  const apis: Started[] = [];
  before(async () => {
    h = await startHarness({ role: 'none', label: 'digest-races' });
    await runMigrations(h.db.url);
    const env = h.childEnv(CHILD_ENV);
    for (const name of ['api-1', 'api-2'])
      apis.push(await processes.startClarion(name, 'api', env, { timeoutMs: 60_000 }));
    for (const name of ['worker-1', 'worker-2'])
      await processes.startClarion(name, 'worker', env, { timeoutMs: 60_000 });
    h.useApi(apis[0]!.url);
    app = await h.createApp();
    for (const user of ['race', ...Array.from({ length: OTHERS }, (_, i) => `other-${i}`)]) {
      const res = await app.call(`/v1/users/${user}`, {
        method: 'PUT',
        body: { webhookUrl: `${h.sandbox.url}/webhook/${user}` },
      });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await processes.killAll();
    await h?.close();
  });

  const join = (api: Started, user: string, n: number) =>
    fetch(`${api.url}/v1/notifications`, {
      method: 'POST',
      headers: { authorization: basic(app.appKey, app.appSecret), 'content-type': 'application/json' },
      body: JSON.stringify({
        to: { userId: user },
        content: DIGEST_WEBHOOK_CONTENT,
        data: { n: String(n) },
        // Long: every join lands in the window; the test then ends it itself.
        digest: { key: 'comments', window: '1h' },
      }),
    });

  test('200 joins racing on both APIs make one digest with all 200; both workers racing at the close send each digest once', async (t) => {
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: JOINS }, async (_, n) => {
        const res = await join(apis[n % 2]!, 'race', n + 1);
        const text = await res.text();
        assert.equal(res.status, 202, text);
        return JSON.parse(text) as { digest: { id: string } };
      }),
    );
    t.diagnostic(
      `${JOINS} concurrent joins of one key over two APIs: ${Math.round(performance.now() - started)} ms`,
    );
    assert.equal(new Set(answers.map((a) => a.digest.id)).size, 1, 'one digest for every join');
    for (let i = 0; i < OTHERS; i++) {
      for (let n = 1; n <= 3; n++) assert.equal((await join(apis[n % 2]!, `other-${i}`, n)).status, 202);
    }
    const digests = await digestsOf(h.db.url, app.id);
    assert.equal(digests.length, OTHERS + 1);
    const race = digests.find((d) => d.id === answers[0]!.digest.id)!;
    assert.equal(race.item_count, JOINS);
    const [items] = await sql<{ n: string }>(
      h.db.url,
      'SELECT count(*) AS n FROM digest_items WHERE digest_id = $1',
      [race.id],
    );
    assert.equal(Number(items!.n), JOINS);

    // Every window ends at once: both workers' relays race for the same rows.
    await sql(h.db.url, `UPDATE digests SET closes_at = now() WHERE app_id = $1`, [app.id]);
    const closing = performance.now();
    await waitFor(
      'every digest sent',
      async () => (await digestsOf(h.db.url, app.id)).every((d) => d.status === 'sent'),
      { timeoutMs: 60_000 },
    );
    t.diagnostic(
      `${OTHERS + 1} digests closed by two racing workers: ${Math.round(performance.now() - closing)} ms`,
    );
    await waitFor(
      'every message received',
      () =>
        digestMessagesTo(h.sandbox, 'race').length === 1 &&
        Array.from({ length: OTHERS }, (_, i) => digestMessagesTo(h.sandbox, `other-${i}`).length).every(
          (n) => n >= 1,
        ),
      { timeoutMs: 60_000 },
    );

    const [message] = digestMessagesTo(h.sandbox, 'race');
    assert.equal(message!.content.count, String(JOINS));
    // Items reach the template up to the documented limit (50), oldest first.
    assert.equal(message!.content.items.split(',').filter(Boolean).length, 50);
    const sent = await sql<{ event_id: string; n: string }>(
      h.db.url,
      `SELECT event_id, count(*) AS n FROM notifications WHERE app_id = $1 AND event_id LIKE 'digest:%' GROUP BY event_id`,
      [app.id],
    );
    assert.equal(sent.length, OTHERS + 1, 'one message per digest');
    assert.ok(sent.every((s) => Number(s.n) === 1));
    for (let i = 0; i < OTHERS; i++) {
      const got = digestMessagesTo(h.sandbox, `other-${i}`);
      assert.equal(got.length, 1, `other-${i}: exactly one message`);
      assert.deepEqual(got[0]!.content, { count: '3', first: '1', last: '3', items: '1,2,3,' });
    }
  });
});
