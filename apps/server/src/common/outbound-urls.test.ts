import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { testRedis, waitFor } from '@clarion/testkit';
import { Queue } from 'bullmq';
import { signUserToken } from '../auth/user-token';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { STATUS_WEBHOOK_QUEUE } from '../tracking/webhooks/status-webhook-dispatcher';

const TABLES = ['users', 'contacts', 'status_webhooks', 'apps', 'integrations'];

/** Keys a browser would give: a P-256 point and a 16-byte auth secret. */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/**
 * The outbound guard under the default (strict) policy: URLs that point inside the network are
 * refused with a 400 when given, and names that resolve inside are refused when connecting.
 */
describe('outbound destinations under the default policy', () => {
  let h: Harness;
  let app: TestApp;
  let asClient: (path: string, init?: { method?: string; body?: unknown }) => Promise<Response>;

  before(async () => {
    h = await startHarness({ label: 'outbound', env: { CLARION_OUTBOUND_ALLOW_PRIVATE: 'false' } });
    app = await h.createApp();
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const token = await signUserToken('eve', app.userTokenSecret);
    asClient = (path, init = {}) =>
      fetch(`${h.url}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': token,
          'content-type': 'application/json',
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    assert.equal((await app.call('/v1/users/eve', { method: 'PUT', body: {} })).status, 201);
  });
  after(async () => {
    await h?.close();
  });

  const refused = async (res: Response, path: string) => {
    assert.equal(res.status, 400, `${path}: ${res.status}`);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'invalid_request');
    assert.ok(
      body.error.details?.some((d) => d.path === path),
      `${JSON.stringify(body.error.details)} names ${path}`,
    );
  };

  test('a client key cannot register a Web Push endpoint inside the network, or keys that cannot encrypt', async () => {
    const before = await countRows(h.db.url, TABLES);
    for (const endpoint of [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1:8443/push',
      'https://127.0.0.1@push.example.com/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://2130706433/x',
      'https://localhost/x',
      'http://127.0.0.1/x',
    ]) {
      const res = await asClient('/v1/users/eve/devices', {
        body: { platform: 'web', subscription: { endpoint, keys: browserKeys() } },
      });
      await refused(res, 'body.subscription.endpoint');
    }
    const good = browserKeys();
    const offCurve = Buffer.from(good.p256dh, 'base64url');
    offCurve[64] = offCurve[64]! ^ 1;
    for (const keys of [
      { ...good, p256dh: offCurve.toString('base64url') },
      { ...good, p256dh: 'B'.repeat(87) },
      { ...good, auth: randomBytes(12).toString('base64url') },
    ]) {
      const res = await asClient('/v1/users/eve/devices', {
        body: { platform: 'web', subscription: { endpoint: 'https://push.example.com/x', keys } },
      });
      assert.equal(res.status, 400, JSON.stringify(keys));
      assert.match(((await res.json()) as ErrorBody).error.message, /subscription\.keys/);
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before, 'nothing was written');
    const ok = await asClient('/v1/users/eve/devices', {
      body: { platform: 'web', subscription: { endpoint: 'https://push.example.com/send/1', keys: good } },
    });
    assert.equal(ok.status, 201);
  });

  test('server keys and the operator cannot point webhooks inside the network or at other schemes', async () => {
    const before = await countRows(h.db.url, TABLES);
    for (const url of [
      'http://2130706433/',
      'http://0.0.0.0:6379/',
      'http://[::1]/',
      'http://192.168.0.10/',
      'http://100.64.1.1/',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_INFO',
      'http://user:pw@example.com/',
    ]) {
      await refused(
        await app.call('/v1/users/eve', { method: 'PUT', body: { webhookUrl: url } }),
        'body.webhookUrl',
      );
      await refused(await app.call('/v1/webhooks', { body: { url } }), 'body.url');
      await refused(
        await h.admin(`/admin/apps/${app.id}/settings`, {
          method: 'PUT',
          body: JSON.stringify({ webhookUrl: url }),
        }),
        'body.webhookUrl',
      );
      await refused(
        await h.admin(`/admin/apps/${app.id}/settings`, {
          method: 'PATCH',
          body: JSON.stringify({ webhookUrl: url }),
        }),
        'body.webhookUrl',
      );
      await refused(
        await h.admin(`/admin/apps/${app.id}/integrations/webhook`, {
          method: 'PUT',
          body: JSON.stringify({ config: { url } }),
        }),
        'body.config.url',
      );
    }
    await refused(
      await h.admin('/admin/apps', {
        method: 'POST',
        body: JSON.stringify({ name: 'x', settings: { webhookUrl: 'http://10.0.0.1/' } }),
      }),
      'body.settings.webhookUrl',
    );
    assert.deepEqual(await countRows(h.db.url, TABLES), before, 'nothing was written');
    const settings = await json<{ settings: { webhookUrl?: string } }>(
      await h.admin(`/admin/apps/${app.id}`),
    );
    assert.equal(settings.settings.webhookUrl, undefined, 'no refused webhookUrl was stored');
  });

  test('a name resolving to loopback is refused when connecting: invalid address, nothing sent, no provider text for client keys', async () => {
    const port = new URL(h.sandbox.url).port;
    const res = await app.call('/v1/users/eve', {
      method: 'PUT',
      body: { webhookUrl: 'https://hooks.example.com/eve' },
    });
    assert.equal(res.status, 200);
    // A public name at input that resolves inside by the time of sending (DNS changed, or rebinding):
    // only the connection can tell. `localhost` stands in for such a name.
    await sql(h.db.url, `UPDATE contacts SET address = $1 WHERE kind = 'url' AND address = $2`, [
      `http://localhost:${port}/webhook/inside`,
      'https://hooks.example.com/eve',
    ]);
    // The same for the app's status webhook: it gets the `failed` event below.
    const hook = await app.call('/v1/webhooks', { body: { url: 'https://hooks.example.com/status' } });
    assert.equal(hook.status, 201);
    await sql(h.db.url, 'UPDATE status_webhooks SET url = $1', [
      `http://localhost:${port}/webhook/status-inside`,
    ]);
    const sent = await json<{ id: string }>(
      await app.call('/v1/notifications', {
        body: { to: { userId: 'eve' }, channels: ['webhook'], content: { webhook: { json: { a: 1 } } } },
      }),
    );
    interface Delivery {
      id: string;
      notificationId: string;
      status: string;
      reason: string | null;
      errorCode: string | null;
      errorMessage: string | null;
      events: { status: string; errorCode: string | null; errorMessage: string | null; detail: unknown }[];
    }
    const asServer = await waitFor('the webhook delivery failed', async () => {
      const body = await json<{ deliveries: Delivery[] }>(await app.call('/v1/users/eve/deliveries'));
      const d = body.deliveries.find((x) => x.notificationId === sent.id);
      return d?.status === 'failed' ? d : undefined;
    });
    assert.equal(asServer.reason, 'invalid_address');
    assert.equal(asServer.errorCode, 'address_refused');
    assert.match(String(asServer.errorMessage), /loopback/);
    assert.equal(h.sandbox.recorder.list({ to: 'inside' }).length, 0, 'the receiver got nothing');

    const body = await json<{ deliveries: Delivery[] }>(await asClient('/v1/users/eve/deliveries'));
    const seen = body.deliveries.find((x) => x.notificationId === sent.id)!;
    assert.equal(seen.errorCode, 'address_refused');
    assert.equal(seen.errorMessage, null);
    const failed = seen.events.find((e) => e.status === 'failed')!;
    assert.equal(failed.errorCode, 'address_refused');
    assert.equal(failed.errorMessage, null);
    assert.doesNotMatch(JSON.stringify(seen), /loopback|127\.0\.0\.1|localhost/);

    // The status webhook's post was refused when connecting, once: not retried (12 attempts otherwise).
    const connection = testRedis();
    const queue = new Queue(STATUS_WEBHOOK_QUEUE, { connection, prefix: h.prefix });
    try {
      const [job] = await waitFor('the refused status webhook job', async () => {
        const failed = await queue.getFailed();
        return failed.length > 0 ? failed : undefined;
      });
      assert.match(String(job!.failedReason), /refused: 127\.0\.0\.1 is a loopback address/);
      assert.equal(job!.attemptsMade, 1);
    } finally {
      await queue.close();
      connection.disconnect();
    }
    assert.equal(h.sandbox.recorder.list({ to: 'status-inside' }).length, 0);
  });
});
