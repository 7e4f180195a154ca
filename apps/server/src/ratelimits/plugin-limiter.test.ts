import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { loadEnv } from '../config/env';
import { assertLimitedPluginsLoaded } from '../config/plugin-rate-limits';
import { seedTopicAudience, sql } from '../testing/db';
import { type Harness, startHarness } from '../testing/harness';

describe('per-plugin send rate (CLARION_PLUGIN_RATE_LIMITS → the BullMQ limiter of the plugin queue)', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ label: 'plimit', env: { CLARION_PLUGIN_RATE_LIMITS: 'webhook=2/1s' } });
  });
  after(() => h.close());

  test('six deliveries at 2 per second are spread over at least two more seconds’ windows, none lost', async () => {
    const app = await h.createApp();
    await app.call('/v1/users/rita', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/rita` },
    });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        app.call('/v1/notifications', {
          body: { to: { userId: 'rita' }, content: { webhook: { json: { i } } } },
        }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 202));
    const received = await waitFor('six sends', () => {
      const r = h.sandbox.recorder.list({ to: 'rita', outcome: 'accepted' });
      return r.length === 6 ? r : undefined;
    });
    const times = received.map((r) => Date.parse(r.receivedAt)).sort((a, b) => a - b);
    // At most 2 per 1-second window: the 5th send cannot start before the third window opens.
    assert.ok(times[4]! - times[0]! >= 900, `sends spread over ${times[4]! - times[0]!} ms`);
  });

  test('a campaign to a rate-limited plugin keeps a job per delivery (no batch jobs), so the rate holds', async () => {
    const app = await h.createApp();
    await seedTopicAudience(h.db.url, {
      appId: app.id,
      topic: 'limited',
      users: 6,
      prefix: 'lim',
      webhookBase: `${h.sandbox.url}/webhook/`,
    });
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'limited' }, content: { webhook: { json: { hi: 1 } } } },
    });
    assert.equal(res.status, 202);
    const received = await waitFor('six sends', () => {
      const r = h.sandbox.recorder.list({ outcome: 'accepted' }).filter((x) => x.to.startsWith('lim'));
      return r.length === 6 ? r : undefined;
    });
    const times = received.map((r) => Date.parse(r.receivedAt)).sort((a, b) => a - b);
    assert.ok(times[4]! - times[0]! >= 900, `sends spread over ${times[4]! - times[0]!} ms`);
    const batched = await sql<{ n: number }>(
      h.db.url,
      `SELECT count(*)::int AS n FROM deliveries WHERE app_id = $1 AND job ? 'batch'`,
      [app.id],
    );
    assert.equal(batched[0]!.n, 0);
  });

  test('a malformed CLARION_PLUGIN_RATE_LIMITS stops the start with the variable named', () => {
    const base = {
      DATABASE_URL: h.db.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      CLARION_ADMIN_TOKEN: 'x'.repeat(20),
      CLARION_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    };
    for (const bad of ['webhook', 'webhook=fast', 'webhook=0', 'webhook=0/1s', 'Web=2/1s', 'webhook=2/1h']) {
      assert.throws(
        () => loadEnv({ ...base, CLARION_PLUGIN_RATE_LIMITS: bad }),
        /CLARION_PLUGIN_RATE_LIMITS/,
        bad,
      );
    }
    assert.deepEqual(
      loadEnv({ ...base, CLARION_PLUGIN_RATE_LIMITS: 'twilio=100/1s, apns=4000/1000,webhook=5/2m' })
        .CLARION_PLUGIN_RATE_LIMITS,
      {
        twilio: { max: 100, durationMs: 1000 },
        apns: { max: 4000, durationMs: 1000 },
        webhook: { max: 5, durationMs: 120_000 },
      },
    );
    // The per-second shorthand: `twilio=30` is 30 a second, `vonage=0.5` one every 2 s.
    assert.deepEqual(
      loadEnv({ ...base, CLARION_PLUGIN_RATE_LIMITS: 'twilio=30,vonage=0.5' }).CLARION_PLUGIN_RATE_LIMITS,
      {
        twilio: { max: 30, durationMs: 1000 },
        vonage: { max: 1, durationMs: 2000 },
      },
    );
  });

  test('a limit for a plugin that is not loaded stops the worker from starting', () => {
    assert.throws(
      () => assertLimitedPluginsLoaded({ twilio: { max: 1, durationMs: 1000 } }, ['webhook']),
      /names plugins that are not loaded: twilio/,
    );
    assert.doesNotThrow(() =>
      assertLimitedPluginsLoaded({ webhook: { max: 1, durationMs: 1000 } }, ['webhook']),
    );
  });
});
