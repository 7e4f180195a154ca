import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { countRows } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { LIQUID_LIMITS } from './liquid-limits';
import { inlineCacheWeight, renderString } from './liquid-renderer';

const TABLES = ['notifications', 'deliveries', 'template_versions'];
const scope = { data: {}, user: {}, app: { id: 'a', name: 'a' } };

/**
 * liquidjs parses n tags in O(n²) time: an inline e-mail of 140,000 `{{ 1 }}` (980 KB) held the
 * event loop for 45 s before it was refused, and every other tenant's request waited as long.
 */
describe('Liquid work is bounded before anything is parsed', () => {
  let h: Harness;
  let hostile: TestApp;
  let innocent: TestApp;
  before(async () => {
    h = await startHarness({ label: 'liquidlimits' });
    hostile = await h.createApp({ webhookUrl: `${h.sandbox.url}/webhook/hostile` });
    innocent = await h.createApp({ webhookUrl: `${h.sandbox.url}/webhook/innocent` });
    for (const app of [hostile, innocent])
      assert.equal(
        (await app.call('/v1/users/u', { method: 'PUT', body: { email: 'u@example.com' } })).status,
        201,
      );
  });
  after(() => h.close());

  test('140,000 tags in an inline e-mail: refused at once (400) while another tenant’s request goes through', async () => {
    const before = await countRows(h.db.url, TABLES);
    const started = Date.now();
    const hostileSend = hostile
      .call('/v1/notifications', {
        body: { to: { userId: 'u' }, content: { email: { subject: 's', html: '{{ 1 }}'.repeat(140_000) } } },
      })
      .then(async (res) => ({ res, ms: Date.now() - started }));
    const innocentSend = innocent
      .call('/v1/notifications', {
        body: { to: { userId: 'u' }, content: { webhook: { json: { ok: true } } } },
      })
      .then((res) => ({ res, ms: Date.now() - started }));
    const [refused, served] = await Promise.all([hostileSend, innocentSend]);
    assert.equal(refused.res.status, 400, await refused.res.clone().text());
    const body = await json<{ error: { code: string; details: { path: string; message: string }[] } }>(
      refused.res,
    );
    assert.equal(body.error.code, 'invalid_request');
    assert.equal(body.error.details[0]?.path, 'body.content.email.html');
    assert.match(body.error.details[0]?.message ?? '', /140000 Liquid tags, over the 2000/);
    assert.equal(served.res.status, 202);
    // Generous bounds (a loaded machine): before, both took about 45 s.
    assert.ok(refused.ms < 10_000, `refused after ${refused.ms} ms`);
    assert.ok(served.ms < 10_000, `served after ${served.ms} ms`);
    assert.deepEqual((await countRows(h.db.url, TABLES)).template_versions, before.template_versions);
    assert.equal((await countRows(h.db.url, TABLES)).notifications, before.notifications! + 1);
  });

  test('the total over all strings is bounded too (a webhook body of many strings)', async () => {
    const strings = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`s${i}`, '{{ 1 }}'.repeat(LIQUID_LIMITS.tagsPerString)]),
    );
    const res = await hostile.call('/v1/notifications', {
      body: { to: { userId: 'u' }, content: { webhook: { json: strings } } },
    });
    assert.equal(res.status, 400);
    const body = await json<{ error: { details: { path: string; message: string }[] } }>(res);
    assert.match(body.error.details[0]?.message ?? '', /12000 Liquid tags in all, over the 10000/);
  });

  test('a template with a string over the tag limit is refused at publish, with its path', async () => {
    const res = await hostile.call('/v1/templates/busy', {
      method: 'PUT',
      body: {
        content: { sms: { text: 'ok' } },
        locales: { de: { sms: { text: '{% if x %}y{% endif %}'.repeat(1001) } } },
      },
    });
    assert.equal(res.status, 400);
    const body = await json<{ error: { details: { path: string }[] } }>(res);
    assert.equal(body.error.details[0]?.path, 'body.locales.de.sms.text');
  });

  test('at the limit, a template still parses and renders', async () => {
    const res = await innocent.call('/v1/notifications', {
      body: {
        to: { userId: 'u' },
        content: { email: { subject: 's', html: '{{ 1 }}'.repeat(LIQUID_LIMITS.tagsPerString) } },
      },
    });
    assert.equal(res.status, 202, await res.clone().text());
  });
});

describe('the parse cache for inline content is bounded by size, not by count', () => {
  test('250 distinct 100 KB bodies (more than the bound holds) leave at most the bound in the cache', () => {
    const filler = 'x'.repeat(100_000);
    for (let i = 0; i < 250; i++) renderString(`${i} {{ 1 }} ${filler}`, scope, 'content.email.html');
    assert.ok(inlineCacheWeight() > 0, 'bodies are cached');
    assert.ok(
      inlineCacheWeight() <= LIQUID_LIMITS.inlineCacheWeight,
      `${inlineCacheWeight()} over ${LIQUID_LIMITS.inlineCacheWeight}`,
    );
  });

  test('a body larger than an entry may be is rendered but not kept', () => {
    const weight = inlineCacheWeight();
    assert.equal(renderString(`{{ 1 }}${'y'.repeat(900_000)}`, scope, 'content.email.html').length, 900_001);
    assert.equal(inlineCacheWeight(), weight);
  });
});
