import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { json, type TestApp } from '../testing/harness';
import { deliveryOf, send, startTrackingHarness, type TrackingHarness } from '../testing/tracking-harness';
import type { StatsCounts } from './stats-view';

interface Stats {
  bucket: string;
  totals: StatsCounts;
  buckets: (StatsCounts & { start: string })[];
}

describe('GET /v1/stats and the Prometheus funnel: the numbers add up', () => {
  let t: TrackingHarness;
  let seededAt: number;
  let app: TestApp;
  let marketing: string;
  before(async () => {
    seededAt = Date.now();
    t = await startTrackingHarness('stats');
    app = await t.h.createApp({ trackClicks: true, trackOpens: true });
    for (const id of ['e1', 'e2', 'e3', 'e4']) {
      const res = await app.call(`/v1/users/${id}`, {
        method: 'PUT',
        body: { email: `${id}@stats.example`, webhookUrl: `${t.h.sandbox.url}/webhook/${id}` },
      });
      assert.equal(res.status, 201);
    }
    assert.equal((await app.call('/v1/users/n1', { method: 'PUT', body: {} })).status, 201);
    t.messaging.behaviors.add({ provider: 'sendgrid', to: 'e4@stats.example', fail: 'bounce', times: 1 });
    marketing = await send(app, {
      to: { userIds: ['e1', 'e2', 'e3', 'e4', 'n1'] },
      category: 'marketing',
      content: {
        email: { subject: 'Sale', html: '<body><a href="https://shop.example/sale">Sale</a></body>' },
      },
    });
    const security = await send(app, {
      to: { userId: 'e1' },
      category: 'security',
      content: { webhook: { json: { alert: true } } },
    });
    await deliveryOf(app, security, (d) => d.status === 'sent', 'webhook sent');
    // Wait for every e-mail to reach its provider-reported end.
    await waitFor('e-mails settled', async () => {
      const view = await json<{ deliveries: { status: string }[] }>(
        await app.call(`/v1/notifications/${marketing}`),
      );
      const s = view.deliveries.map((d) => d.status).sort();
      return (
        JSON.stringify(s) === JSON.stringify(['delivered', 'delivered', 'delivered', 'failed', 'suppressed'])
      );
    });
    // Opens by e1 and e2, a click by e1.
    for (const to of ['e1@stats.example', 'e2@stats.example']) {
      const [mail] = await t.messaging.recorder.waitFor(1, { provider: 'sendgrid', to, outcome: 'accepted' });
      const html = (mail!.payload as { html: string }).html;
      assert.equal((await fetch(html.match(/<img src="([^"]+)"/)![1]!)).status, 200);
      if (to.startsWith('e1'))
        assert.equal((await fetch(html.match(/href="([^"]+)"/)![1]!, { redirect: 'manual' })).status, 302);
    }
    await waitFor('clicked', async () => {
      const view = await json<{ deliveries: { status: string }[] }>(
        await app.call(`/v1/notifications/${marketing}`),
      );
      return (
        view.deliveries.some((d) => d.status === 'clicked') &&
        view.deliveries.filter((d) => d.status === 'opened').length === 1
      );
    });
  });
  after(() => t.close());

  const stats = async (query = '') => {
    const res = await app.call(`/v1/stats${query}`);
    assert.equal(res.status, 200, await res.clone().text());
    return json<Stats>(res);
  };

  test('totals: requested, sent, delivered, failed and suppressed by reason, opened, clicked, and the rates', async () => {
    const s = await stats('?category=marketing');
    const { rates, ...counts } = s.totals;
    assert.deepEqual(counts, {
      requested: 5,
      sent: 4,
      delivered: 3,
      opened: 2,
      clicked: 1,
      failed: 1,
      expired: 0,
      suppressed: 1,
      failedByReason: { bounced: 1 },
      suppressedByReason: { no_contact: 1 },
    });
    assert.deepEqual(rates, { deliveryRate: 0.75, failureRate: 0.25, openRate: 0.5, clickThroughRate: 0.25 });
  });

  test('filters by channel, plugin and category; no filter sums them all', async () => {
    const all = await stats();
    assert.equal(all.totals.requested, 6);
    assert.equal(all.totals.sent, 5);
    const webhook = await stats('?channel=webhook');
    assert.deepEqual([webhook.totals.requested, webhook.totals.sent, webhook.totals.delivered], [1, 1, 0]);
    const sendgrid = await stats('?plugin=sendgrid');
    assert.deepEqual(
      [sendgrid.totals.requested, sendgrid.totals.suppressed, sendgrid.totals.sent],
      [4, 0, 4],
    );
    assert.equal((await stats('?category=security')).totals.requested, 1);
    assert.equal((await stats('?category=billing')).totals.requested, 0);
    assert.equal((await stats('?template=welcome')).totals.requested, 0);
    // Two filters at once read the pair keys; the numbers agree.
    const both = await stats('?channel=email&category=marketing');
    assert.deepEqual(
      [both.totals.requested, both.totals.sent, both.totals.delivered, both.totals.clicked],
      [5, 4, 3, 1],
    );
    assert.equal((await stats('?plugin=sendgrid&category=security')).totals.requested, 0);
    const pair = await stats('?plugin=sendgrid&category=marketing');
    assert.deepEqual([pair.totals.requested, pair.totals.suppressed, pair.totals.failed], [4, 0, 1]);
    // Three filters read the every-combination rollup.
    const three = await stats('?channel=email&plugin=sendgrid&category=marketing');
    assert.deepEqual([three.totals.requested, three.totals.sent, three.totals.opened], [4, 4, 2]);
    // Another app sees none of it.
    const other = await t.h.createApp();
    assert.equal((await json<Stats>(await other.call('/v1/stats'))).totals.requested, 0);
  });

  test('buckets: 24 hourly buckets by default, all counts in the current hour; daily buckets over a week', async () => {
    const hourly = await stats();
    assert.equal(hourly.bucket, 'hour');
    assert.ok(hourly.buckets.length === 24 || hourly.buckets.length === 25, String(hourly.buckets.length));
    // All in the current hour, or (a run that straddled the top of an hour) the one before it too.
    const hourOf = (ms: number) => new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString();
    const nonEmpty = hourly.buckets.filter((b) => b.requested > 0);
    const hours = new Set([hourOf(seededAt), hourOf(Date.now())]);
    assert.ok(nonEmpty.length > 0 && nonEmpty.every((b) => hours.has(b.start)), JSON.stringify(nonEmpty));
    assert.equal(
      nonEmpty.reduce((n, b) => n + b.requested, 0),
      6,
    );
    const from = new Date(Date.now() - 6 * 86_400_000).toISOString();
    const daily = await stats(`?bucket=day&from=${encodeURIComponent(from)}`);
    assert.equal(daily.buckets.length, 7);
    assert.equal(
      daily.buckets.reduce((n, b) => n + b.requested, 0),
      6,
    );
    const past = await stats(
      `?from=${encodeURIComponent(new Date(Date.now() - 3 * 86_400_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() - 2 * 86_400_000).toISOString())}`,
    );
    assert.equal(past.totals.requested, 0);
  });

  test('bad queries are 400 with the problem named', async () => {
    const now = Date.now();
    for (const q of [
      '?bucket=week',
      '?from=yesterday',
      `?from=${new Date(now).toISOString()}&to=${new Date(now - 1000).toISOString()}`,
      `?from=${new Date(now - 400 * 86_400_000).toISOString()}`,
      '?channel=',
      '?color=red',
    ]) {
      const res = await app.call(`/v1/stats${q}`);
      assert.equal(res.status, 400, q);
      assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'invalid_request');
    }
  });

  test('Prometheus: delivered, opened and clicked per channel', async () => {
    const text = await (await fetch(`${t.h.url}/metrics`)).text();
    assert.match(
      text,
      /clarion_deliveries_total\{channel="email",plugin="[^"]*",status="delivered"[^}]*\} 3\b/,
    );
    assert.match(text, /clarion_deliveries_total\{channel="email",plugin="[^"]*",status="opened"[^}]*\} 2\b/);
    assert.match(
      text,
      /clarion_deliveries_total\{channel="email",plugin="[^"]*",status="clicked"[^}]*\} 1\b/,
    );
    assert.match(text, /clarion_tracking_events_total\{channel="email",event="clicked"[^}]*\} 1\b/);
    assert.match(text, /clarion_provider_callbacks_total\{provider="sendgrid",outcome="accepted"[^}]*\} \d+/);
  });
});
