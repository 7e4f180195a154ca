import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendgridFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { Processes } from '../testing/processes';

const SUBSCRIBERS = 2500;
/** A newsletter's HTML: a table of offers, 60 KB. */
const HTML = `<table>${Array.from(
  { length: 750 },
  (_, i) => `<tr><td><a href="https://shop.example/offers/${i}">Offer ${i}</a>: ${i % 40} % off</td></tr>`,
).join('')}</table>`;
/** deploy/Dockerfile's heap caps: the worker runs as the image runs it. */
const IMAGE_NODE_OPTIONS = '--max-old-space-size=256 --max-semi-space-size=32';

/**
 * A newsletter to a topic, fanned out by a worker process with the image's heap. A fan-out chunk
 * of 1,000 recipients held its HTML about four times over (rendered, as each job's JSON, as the
 * statement's parameter and its buffer): 200 MB for a 50 KB body, and the worker died of an
 * out-of-memory error mid-campaign (bench, `--html-kb 50`). Chunks are now sized by the content.
 */
describe('a newsletter to a topic (60 KB of HTML an e-mail), fanned out by a worker with the image’s heap', () => {
  let h: Harness;
  let app: TestApp;
  const processes = new Processes();
  before(async () => {
    h = await startHarness({
      role: 'api',
      label: 'newsletter',
      fakes: [sendgridFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-sendgrid' },
    });
    app = await h.createApp();
    await sql(
      h.db.url,
      `WITH u AS (
         INSERT INTO users (id, app_id, external_id)
         SELECT gen_random_uuid(), $1, 'reader-' || i FROM generate_series(1, $2::int) i RETURNING id, external_id),
       c AS (INSERT INTO contacts (id, app_id, user_id, kind, address)
             SELECT gen_random_uuid(), $1, id, 'email', external_id || '@example.com' FROM u)
       INSERT INTO topic_subscriptions (app_id, topic, user_id) SELECT $1, 'newsletter', id FROM u`,
      [app.id, SUBSCRIBERS],
    );
  });
  after(async () => {
    await processes.killAll();
    await h.close();
  });

  test('every subscriber gets it once, and the worker lives through the campaign', async (t) => {
    assert.ok(HTML.length > 60_000);
    const worker = await processes.startClarion(
      'worker',
      'worker',
      h.childEnv({ CLARION_MIGRATE_ON_START: 'false', NODE_OPTIONS: IMAGE_NODE_OPTIONS }),
    );
    const res = await app.call('/v1/notifications', {
      body: {
        to: { topic: 'newsletter' },
        content: {
          email: { subject: 'Spring offers for {{ user.id }}', html: HTML, text: 'Our spring offers' },
        },
      },
    });
    assert.equal(res.status, 202);
    const { id } = await json<{ id: string }>(res);
    let died = false;
    void worker.exited.then(() => {
      died = true;
    });
    await waitFor(
      'every e-mail sent, or the worker dead',
      async () => {
        if (died) return true;
        const n = await json<{ summary: Record<string, number> }>(
          await app.call(`/v1/notifications/${id}?limit=1`),
        );
        return n.summary.sent === SUBSCRIBERS;
      },
      { timeoutMs: 240_000, intervalMs: 500 },
    );
    assert.equal(died, false, `the worker died:\n${worker.output().split('\n').slice(-15).join('\n')}`);
    const accepted = h.sandbox.recorder.list({ provider: 'sendgrid', outcome: 'accepted' });
    assert.equal(new Set(accepted.map((r) => r.to)).size, SUBSCRIBERS, 'each subscriber once');
    assert.equal(accepted.length, SUBSCRIBERS, 'no e-mail twice');
    t.diagnostic(`worker alive after ${SUBSCRIBERS} e-mails of ${HTML.length} bytes of HTML`);
  });

  // Below CLARION_FANOUT_THRESHOLD (1,000 ids) a list used to be planned in the request: 900
  // newsletters, 57 MB of jobs held four times over, in an API process capped at 256 MB.
  test('to a list of 900 users, through an API process with the image’s heap: expanded in the background, each user once', async () => {
    const api = await processes.startClarion(
      'api',
      'api',
      h.childEnv({ CLARION_MIGRATE_ON_START: 'false', NODE_OPTIONS: IMAGE_NODE_OPTIONS }),
    );
    const userIds = Array.from({ length: 900 }, (_, i) => `reader-${i + 1}`);
    const call = (path: string, body?: unknown) =>
      fetch(`${api.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: basic(app.appKey, app.appSecret), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const before = h.sandbox.recorder.count({ provider: 'sendgrid', outcome: 'accepted' });
    const res = await call('/v1/notifications', {
      to: { userIds },
      content: { email: { subject: 'Offers for {{ user.id }}', html: HTML } },
    });
    assert.equal(res.status, 202);
    const answer = await json<{ id: string; status: string }>(res);
    assert.equal(answer.status, 'fanout', 'too large to plan in the request');
    await waitFor(
      'every e-mail sent',
      async () => {
        const n = await json<{ summary: Record<string, number> }>(
          await call(`/v1/notifications/${answer.id}?limit=1`),
        );
        return n.summary.sent === userIds.length;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const got = h.sandbox.recorder.list({ provider: 'sendgrid', outcome: 'accepted' }).slice(before);
    assert.equal(got.length, userIds.length, 'no e-mail twice');
    assert.equal(new Set(got.map((r) => r.to)).size, userIds.length, 'each user once');
    assert.equal(api.child.exitCode, null, `the API died:\n${api.output()}`);
  });

  test('with escalation steps, such a list is refused whole (400 naming the list), nothing stored', async () => {
    const notifications = async () =>
      (await sql<{ n: number }>(h.db.url, 'SELECT count(*)::int AS n FROM notifications'))[0]!.n;
    const stored = await notifications();
    const res = await app.call('/v1/notifications', {
      body: {
        to: { userIds: Array.from({ length: 200 }, (_, i) => `reader-${i + 1}`) },
        content: { email: { subject: 'Offers', html: HTML }, webhook: { json: { reminder: true } } },
        steps: [{ channel: 'email' }, { channel: 'webhook', after: '1h', unless: ['opened'] }],
      },
    });
    const body = await json<{ error: { code: string; message: string; details?: { path: string }[] } }>(res);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(body.error.message, /at most 8 MB of jobs/);
    assert.equal(body.error.details?.[0]?.path, 'body.to.userIds');
    assert.equal(await notifications(), stored);
  });
});
