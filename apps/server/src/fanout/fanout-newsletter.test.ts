import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sendgridFake } from '@clarion/sandbox';
import { waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
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
});
